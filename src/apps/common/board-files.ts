/**
 * Kept for test/unit/of-livetree.test.ts, which loads it at run time: the board loaders moved to
 * src/boards (`dmaheap/boards`), which the library and the CLI share. `loadBoard` here is the
 * file loader (a DTS, DTB or live-tree path). Delete once that test imports src/boards.
 */
export { loadBoardFile as loadBoard, nodeLiveTreeFs } from '../../boards/index.js';
export type { BoardSource, LoadBoardOptions } from '../../boards/index.js';
