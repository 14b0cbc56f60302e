// Building the page's DOM: text is always set as text (names of files and processes come from
// anyone who can create a file on the host; nothing of theirs is ever parsed as HTML).

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** A cell: text, or a node; `num` right-aligns. */
export interface Cell { text?: string; node?: Node; num?: boolean; title?: string }

export type Row = Array<Cell | string>;

/** A data table with a caption and column headers, scrolling sideways on narrow screens. */
export function table(caption: string, headers: string[], rows: Row[], numeric: boolean[] = []): HTMLElement {
  const head = el('tr', {}, ...headers.map((h, i) => el('th', { scope: 'col', ...(numeric[i] ? { class: 'num' } : {}) }, h)));
  const body = rows.map((r) => el('tr', {}, ...r.map((c, i) => {
    const cell = typeof c === 'string' ? { text: c } : c;
    const td = el(i === 0 ? 'th' : 'td', {
      ...(i === 0 ? { scope: 'row' } : {}), ...(cell.num || numeric[i] ? { class: 'num' } : {}), ...(cell.title ? { title: cell.title } : {}),
    });
    if (cell.node) td.append(cell.node);
    else td.textContent = cell.text ?? '';
    return td;
  })));
  return el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', {}, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...body)));
}

/** A bar of use against a limit, with the figures as text beside it. */
export function meter(used: number | null, limit: number | null, label: string): HTMLElement {
  const share = used !== null && limit ? Math.min(1, used / limit) : 0;
  const bar = el('span', { class: `bar ${share >= 0.9 ? 'crit' : share >= 0.75 ? 'warn' : ''}`, 'aria-hidden': 'true' }, el('span', { class: 'fill' }));
  (bar.firstChild as HTMLElement).style.width = `${(share * 100).toFixed(1)}%`;
  return el('span', { class: 'meter' }, bar, el('span', {}, label));
}

/** Replace what a container shows. */
export function show(id: string, ...nodes: Child[]): void {
  const box = document.getElementById(id);
  if (!box) return;
  box.replaceChildren(...nodes.filter((n): n is Node | string => n !== null && n !== undefined && n !== false));
}

export function none(text: string): HTMLElement {
  return el('p', { class: 'none' }, text);
}
