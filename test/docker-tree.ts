// A Docker overlay2 store built by hand, for tests: two images sharing a base layer, one
// container, two overlay2 directories nobody names (what `docker system prune` leaves behind).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
// Computed here from the OCI definition, not with the reader's code, so a wrong formula shows.
export const chain = (parent: string, diff: string): string => sha(`sha256:${parent} sha256:${diff}`);

export const d1 = sha('layer one'), d2 = sha('layer two'), d3 = sha('layer three');
export const c1 = d1, cA = chain(c1, d2), cB = chain(c1, d3);
export const imgA = sha('image A config'), imgB = sha('image B config');
export const ctr = sha('container');
export const mountId = sha('mount'), initId = `${mountId}-init`;
export const cache = { [c1]: 'cache1', [cA]: 'cacheA', [cB]: 'cacheB' };

export function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

export function build(root: string): void {
  const meta = path.join(root, 'image', 'overlay2');
  const layers: [string, string | null, string, number][] = [[c1, null, d1, 100], [cA, c1, d2, 200], [cB, c1, d3, 300]];
  for (const [id, parent, diff, size] of layers) {
    const dir = path.join(meta, 'layerdb', 'sha256', id);
    write(path.join(dir, 'diff'), `sha256:${diff}`);
    write(path.join(dir, 'size'), String(size));
    write(path.join(dir, 'cache-id'), cache[id]!);
    if (parent) write(path.join(dir, 'parent'), `sha256:${parent}`);
  }
  const m = path.join(meta, 'layerdb', 'mounts', ctr);
  write(path.join(m, 'mount-id'), mountId);
  write(path.join(m, 'init-id'), initId);
  write(path.join(m, 'parent'), `sha256:${cA}`);
  write(path.join(root, 'containers', ctr, 'config.v2.json'), JSON.stringify({ Name: '/web', Image: `sha256:${imgA}` }));

  const content = path.join(meta, 'imagedb', 'content', 'sha256');
  write(path.join(content, imgA), JSON.stringify({ created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [`sha256:${d1}`, `sha256:${d2}`] } }));
  write(path.join(content, imgB), JSON.stringify({ created: '2024-02-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [`sha256:${d1}`, `sha256:${d3}`] } }));
  write(path.join(meta, 'repositories.json'), JSON.stringify({
    Repositories: {
      app: { 'app:1.0': `sha256:${imgA}`, 'app:latest': `sha256:${imgA}`, [`app@sha256:${sha('manifest A')}`]: `sha256:${imgA}` },
      other: { [`other@sha256:${sha('manifest B')}`]: `sha256:${imgB}` },
    },
  }));

  for (const dir of [...Object.values(cache), mountId, initId, 'dangling1', 'dangling2']) {
    fs.mkdirSync(path.join(root, 'overlay2', dir, 'diff'), { recursive: true });
    write(path.join(root, 'overlay2', dir, 'link'), dir.slice(0, 26).toUpperCase());
  }
  fs.mkdirSync(path.join(root, 'overlay2', 'l'));
}
