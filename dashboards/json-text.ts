// JSON text laid out the way Biome formats JSON (2-space indent, 110 columns), so the generated dashboards
// pass `biome check` untouched: objects always one key per line, arrays of scalars on one line when they fit.
const LINE_WIDTH = 110;
const INDENT = '  ';

/** `value` as Biome-formatted JSON text with a trailing newline. */
export function toJsonText(value: unknown): string {
  return `${render(value, '', 0, 0)}\n`;
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

// `column` is where the value starts on its line, `trailer` the characters that follow it there (a comma).
function render(value: unknown, indent: string, column: number, trailer: number): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isScalar)) {
      const flat = `[${value.map(scalar).join(', ')}]`;
      if (column + flat.length + trailer <= LINE_WIDTH) return flat;
    }
    const inner = indent + INDENT;
    const items = value.map(
      (item, index) => inner + render(item, inner, inner.length, index < value.length - 1 ? 1 : 0),
    );
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    // As JSON.stringify: properties holding undefined or a function (the SDK's query variant marker) are left out.
    const entries = Object.entries(value).filter(
      ([, item]) => item !== undefined && typeof item !== 'function',
    );
    if (entries.length === 0) return '{}';
    const inner = indent + INDENT;
    const lines = entries.map(([key, item], index) => {
      const prefix = `${inner}${JSON.stringify(key)}: `;
      return prefix + render(item, inner, prefix.length, index < entries.length - 1 ? 1 : 0);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}
