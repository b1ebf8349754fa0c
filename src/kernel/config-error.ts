/** A config problem (not an errno: a programming or input error of the caller). */
export class KernelConfigError extends Error {
  override readonly name: string = 'KernelConfigError';
}
