// Time-series charts on <canvas>, drawn by hand: a few lines over a fixed time window.

/**
 * A small line chart of `series` (each {key, color}) over the last `windowMs`. draw(samples, now)
 * redraws from an array of samples ({ts, [key]: number|null}); null breaks a line.
 */
export class LineChart {
  constructor(canvas, { series, windowMs = 120_000, format = String }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.series = series;
    this.windowMs = windowMs;
    this.format = format;
    this.w = 0;
    this.h = 0;
    // CSS size from a resize observer: reading clientWidth while drawing would force a layout.
    this.cssW = canvas.clientWidth;
    this.cssH = canvas.clientHeight;
    new ResizeObserver((entries) => {
      const r = entries[entries.length - 1].contentRect;
      this.cssW = r.width;
      this.cssH = r.height;
      if (this.last) this.draw(...this.last);
    }).observe(canvas);
  }

  /** Matches the backing store to the CSS size and pixel ratio; only touches it when that changed. */
  #fit() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.cssW * dpr));
    const h = Math.max(1, Math.round(this.cssH * dpr));
    if (w !== this.w || h !== this.h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.w = w;
      this.h = h;
    }
    return dpr;
  }

  draw(samples, now = Date.now()) {
    this.last = [samples, now];
    const dpr = this.#fit();
    const { ctx, w, h } = this;
    const pad = { l: 4 * dpr, r: 4 * dpr, t: 14 * dpr, b: 4 * dpr };
    const from = now - this.windowMs;
    let max = 0;
    for (const s of samples) {
      if (s.ts < from) continue;
      for (const { key } of this.series) if (s[key] !== null && s[key] > max) max = s[key];
    }
    const top = niceCeil(max);
    ctx.clearRect(0, 0, w, h);

    // grid: quarters, labels at the top
    ctx.strokeStyle = '#e8edf3';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(pad.t + ((h - pad.t - pad.b) * i) / 4) + 0.5;
      ctx.moveTo(pad.l, y);
      ctx.lineTo(w - pad.r, y);
    }
    ctx.stroke();
    ctx.fillStyle = '#6b7888';
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.fillText(`max ${this.format(top)}`, pad.l, 0);
    const last = samples[samples.length - 1];
    if (last) {
      const text = this.series.map(({ key }) => (last[key] === null ? '—' : this.format(last[key]))).join(' / ');
      ctx.textAlign = 'right';
      ctx.fillText(text, w - pad.r, 0);
      ctx.textAlign = 'left';
    }

    const x = (ts) => pad.l + ((ts - from) / this.windowMs) * (w - pad.l - pad.r);
    const y = (v) => h - pad.b - (top ? v / top : 0) * (h - pad.t - pad.b);
    ctx.lineWidth = 1.6 * dpr;
    ctx.lineJoin = 'round';
    for (const { key, color } of this.series) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      let pen = false;
      for (const s of samples) {
        if (s.ts < from - 2000 || s[key] === null || s[key] === undefined) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(x(s.ts), y(s[key]));
        else ctx.moveTo(x(s.ts), y(s[key]));
        pen = true;
      }
      ctx.stroke();
    }
  }
}

/** 1, 2, 5 × 10^n at or above v (an axis maximum that reads well). */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
