// Hostile and oversized inputs shared by the workerd suite and the edge's
// memory benchmark (benches/edge-memory.mjs).
import { crc32, deflateSync } from "node:zlib";

/**
 * A PNG of `w`×`h` zeros (black, or transparent black): tiny on the wire,
 * huge decoded. `pad` bytes in a tEXt chunk make the file as large as wanted.
 */
export function pngOfZeros(w, h, { bitDepth = 8, colorType = 2, pad = 0 } = {}) {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const raw = Buffer.alloc((1 + (w * channels * bitDepth) / 8) * h);
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(pad ? [chunk("tEXt", Buffer.concat([Buffer.from("Comment\0"), Buffer.alloc(pad, 0x41)]))] : []),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]));
}

/** A JPEG grown to `size` bytes with comment segments: the same pixels, the most bytes. */
export function padJpeg(jpeg, size) {
  const parts = [jpeg.subarray(0, 2)];
  let total = jpeg.length;
  while (total + 4 < size) {
    const n = Math.min(65533, size - total - 4);
    const seg = new Uint8Array(n + 4);
    seg.set([0xff, 0xfe, (n + 2) >> 8, (n + 2) & 255]);
    seg.fill(0x41, 4);
    parts.push(seg);
    total += seg.length;
  }
  parts.push(jpeg.subarray(2));
  return new Uint8Array(Buffer.concat(parts));
}
