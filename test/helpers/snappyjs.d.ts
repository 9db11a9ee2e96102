// snappyjs (a devDependency, for decoding Prometheus remote-write bodies) ships no types.
declare module 'snappyjs' {
  /** The raw (unframed) Snappy block format, as remote write sends it; a Buffer in, a Buffer out. */
  export function uncompress(compressed: Buffer, maxLength?: number): Buffer;
  export function compress(uncompressed: Buffer): Buffer;
}
