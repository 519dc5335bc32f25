// Numbers, sizes, times and dates for people.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  let v = n;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function percent(p, digits = 1) {
  if (p === null || p === undefined) return "–";
  return `${(p * 100).toFixed(digits)}%`;
}

/** 75.25 → "1:15.3"; whole=true → "1:15". */
export function clock(seconds, whole = false) {
  if (seconds === null || seconds === undefined) return "–";
  const sign = seconds < 0 ? "-" : "";
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const sec = abs % 60;
  const secText = whole ? String(Math.floor(sec)).padStart(2, "0") : sec.toFixed(1).padStart(4, "0");
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, "0")}:${secText}` : `${sign}${m}:${secText}`;
}

/** 7.5 → "7.5 s"; 130 → "2 min 10 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function dateTime(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "–";
}

export function relative(iso, now = Date.now()) {
  if (!iso) return "–";
  const diff = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return relativeFormat.format(Math.round(diff), "second");
  if (abs < 2700) return relativeFormat.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return relativeFormat.format(Math.round(diff / 3600), "hour");
  return relativeFormat.format(Math.round(diff / 86400), "day");
}

export function number(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return typeof v === "number" ? String(Number(v.toFixed(digits))) : String(v);
}
