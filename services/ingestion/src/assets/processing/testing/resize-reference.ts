/**
 * resizeForModel's area downscale as first written (separable, fresh arrays, no caching): the
 * derivative training reads was made by this, so the optimized one must give the same bytes.
 * Input: an already square RGB image of side `side`, downscaled to `size`.
 */
export function referenceResizeArea(src: Uint8Array, side: number, size: number): Uint8Array {
  const scale = side / size;
  const start: number[] = [];
  const index: number[] = [];
  const weight: number[] = [];
  const total = new Float64Array(size);
  for (let o = 0; o < size; o++) {
    start[o] = index.length;
    const s0 = o * scale;
    const s1 = s0 + scale;
    for (let s = Math.floor(s0); s < Math.min(side, Math.ceil(s1)); s++) {
      const w = Math.min(s1, s + 1) - Math.max(s0, s);
      index.push(s);
      weight.push(w);
      total[o] += w;
    }
  }
  start[size] = index.length;
  const rows = new Float64Array(side * size * 3);
  for (let y = 0; y < side; y++) {
    for (let ox = 0; ox < size; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = start[ox]; t < start[ox + 1]; t++) {
        const i = y * side * 3 + index[t] * 3;
        r += src[i] * weight[t];
        g += src[i + 1] * weight[t];
        b += src[i + 2] * weight[t];
      }
      const o = (y * size + ox) * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const out = new Uint8Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = start[oy]; t < start[oy + 1]; t++) {
        const i = (index[t] * size + ox) * 3;
        r += rows[i] * weight[t];
        g += rows[i + 1] * weight[t];
        b += rows[i + 2] * weight[t];
      }
      const o = (oy * size + ox) * 3;
      out[o] = Math.round(r / (total[oy] * total[ox]));
      out[o + 1] = Math.round(g / (total[oy] * total[ox]));
      out[o + 2] = Math.round(b / (total[oy] * total[ox]));
    }
  }
  return out;
}
