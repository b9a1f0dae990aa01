/**
 * Test support: rewrites a `.model` file with some pieces' types changed (e.g. to UNUSED), so
 * that code paths no shipped model exercises can be cross-checked against `spm_encode`.
 *
 * @module
 */
import { ProtoReader } from "./_protobuf.ts";
import { parseModelProto, type PieceTypeValue } from "./model_proto.ts";

function varint(n: number, out: number[]): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/**
 * Returns a copy of a model file with the given pieces' types replaced; every other field is
 * copied byte for byte.
 *
 * @param bytes the model file
 * @param types piece id → new type
 * @returns the new model file
 */
export function withPieceTypes(bytes: Uint8Array, types: Map<number, PieceTypeValue>): Uint8Array {
  const model = parseModelProto(bytes);
  const out: number[] = [];
  const r = new ProtoReader(bytes);
  let index = 0;
  const f32 = new DataView(new ArrayBuffer(4));
  while (r.more()) {
    const at = r.pos;
    const tag = r.readTag();
    r.skip(tag);
    if (tag >>> 3 !== 1) {
      for (let i = at; i < r.pos; i++) out.push(bytes[i]);
      continue;
    }
    const p = model.pieces[index];
    const type = types.get(index) ?? p.type;
    index++;
    const rec: number[] = [0x0a];
    varint(p.bytes.length, rec);
    rec.push(...p.bytes, 0x15);
    f32.setFloat32(0, p.score, true);
    for (let i = 0; i < 4; i++) rec.push(f32.getUint8(i));
    if (type !== 1) rec.push(0x18, type);
    out.push(0x0a);
    varint(rec.length, out);
    out.push(...rec);
  }
  return new Uint8Array(out);
}
