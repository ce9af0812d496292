// A YAML reader for the subset docker-compose.yml uses: block mappings by indentation, block
// sequences ("- item"), flow sequences (["a", "b"]), plain and quoted scalars, comments. Enough
// to check the file's structure without a YAML dependency; anything else throws.
export type Yaml = string | Yaml[] | { [key: string]: Yaml };

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

function stripComment(s: string): string {
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

function scalar(s: string, no: number): Yaml {
  const t = s.trim();
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new Error(`line ${no}: unterminated flow sequence`);
    const inner = t.slice(1, -1).trim();
    if (inner === '') return [];
    const items: string[] = [];
    let cur = '';
    let q: string | undefined;
    for (const c of inner) {
      if (q) {
        cur += c;
        if (c === q) q = undefined;
      } else if (c === '"' || c === "'") {
        q = c;
        cur += c;
      } else if (c === ',') {
        items.push(cur);
        cur = '';
      } else cur += c;
    }
    items.push(cur);
    return items.map((x) => scalar(x, no));
  }
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  if (t.startsWith('{') || t.startsWith('&') || t.startsWith('*') || t.startsWith('|') || t.startsWith('>')) throw new Error(`line ${no}: "${t}" is outside the subset this reader knows`);
  return t;
}

export function parseYaml(text: string): Yaml {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not YAML indentation`);
    const s = stripComment(raw).replace(/\s+$/, '');
    if (s.trim() === '' || s.trim() === '---') return;
    lines.push({ indent: s.length - s.trimStart().length, text: s.trim(), no: i + 1 });
  });
  let i = 0;
  const block = (indent: number): Yaml => {
    if (i >= lines.length) return '';
    if (lines[i].text.startsWith('- ') || lines[i].text === '-') {
      const out: Yaml[] = [];
      while (i < lines.length && lines[i].indent === indent && (lines[i].text.startsWith('- ') || lines[i].text === '-')) {
        const l = lines[i++];
        const rest = l.text.slice(1).trim();
        if (rest === '') out.push(block(lines[i]?.indent ?? indent + 2));
        else if (/^[^"'\[][^:]*:(\s|$)/.test(rest)) throw new Error(`line ${l.no}: mappings inside sequence items are outside the subset`);
        else out.push(scalar(rest, l.no));
      }
      return out;
    }
    const out: { [key: string]: Yaml } = {};
    while (i < lines.length && lines[i].indent === indent) {
      const l = lines[i++];
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(l.text);
      if (!m) throw new Error(`line ${l.no}: "${l.text}" is not "key: value"`);
      if (m[1] in out) throw new Error(`line ${l.no}: duplicate key ${m[1]}`);
      if (m[2] !== undefined && m[2] !== '') out[m[1]] = scalar(m[2], l.no);
      else if (i < lines.length && lines[i].indent > indent) out[m[1]] = block(lines[i].indent);
      else if (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith('- ')) out[m[1]] = block(indent);
      else out[m[1]] = '';
    }
    if (i < lines.length && lines[i].indent > indent) throw new Error(`line ${lines[i].no}: unexpected indentation`);
    return out;
  };
  const doc = block(0);
  if (i < lines.length) throw new Error(`line ${lines[i].no}: unexpected "${lines[i].text}"`);
  return doc;
}
