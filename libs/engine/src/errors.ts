/** The engine cannot differentiate an op that lies between the hooked layer and the score. */
export class UnsupportedOpError extends Error {
  override name = 'UnsupportedOpError';
  constructor(
    readonly opType: string,
    readonly nodeName: string,
    readonly layer: string,
    detail?: string,
  ) {
    super(
      `cannot differentiate ${opType} (node "${nodeName}") between layer "${layer}" and the output` +
        (detail ? `: ${detail}` : ''),
    );
  }
}

/** The input tensor does not fit the model (rank, channels, size). */
export class InputShapeError extends Error {
  override name = 'InputShapeError';
}

/** The model or request cannot be compiled (e.g. the layer is not 4-D, or has no path to the output). */
export class CompileError extends Error {
  override name = 'CompileError';
}
