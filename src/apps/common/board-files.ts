/**
 * Kept for old imports: the board loaders moved to src/boards (`dmaheap/boards`), which the
 * library and the CLI share. `loadBoard` here is the file loader (a DTS, DTB or live-tree path).
 */
export { loadBoardFile as loadBoard, nodeLiveTreeFs } from '../../boards/index.js';
export type { BoardSource, LoadBoardOptions } from '../../boards/index.js';
