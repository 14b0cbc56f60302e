// Why a store holds ID-mapped copies and unreferenced layers, and how to get the inodes back,
// by what was found: the podman version, a mount program, a rootless store.
import { shellArg, type Fix } from '../shared/fix.js';
import type { StoreRoot } from './stores.js';
import type { StoreAnalysis } from './analyze.js';

export interface Advice { why: string[]; fixes: Fix[] }

/** "4.3.1" >= "5.6"? null when the version is unknown. */
export function atLeast(version: string | null, want: string): boolean | null {
  if (!version) return null;
  const a = version.split(/[.-]/).map((x) => parseInt(x, 10));
  const b = want.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = Number.isFinite(a[i]) ? a[i]! : 0;
    if (x !== b[i]) return x > b[i]!;
  }
  return true;
}

export interface ExplainInput {
  store: StoreRoot;
  analysis: StoreAnalysis;
  /** podman's version (podman --version), null when podman is not installed */
  podman: string | null;
  /** overlay/.has-mount-program says the store was made with a mount program */
  madeWithMountProgram: boolean | null;
}

function podmanCmd(x: ExplainInput, args: string): string {
  return `podman${x.store.given ? ` --root ${shellArg(x.store.root)}` : ''} ${args}`;
}

function asUser(x: ExplainInput): string {
  return x.store.rootless ? ` (as ${x.store.user}, in a login session of that user: sudo alone does not set up rootless podman)` : '';
}

export function explainCopies(x: ExplainInput): Advice | null {
  const imgs = x.analysis.images.filter((i) => i.copies.length).sort((a, b) => b.copies.length - a.copies.length);
  if (!imgs.length) return null;
  const copies = imgs.flatMap((i) => i.copies);
  const nonContiguous = copies.filter((c) => c.uidmap.length > 1 || c.gidmap.length > 1).length;
  const why = [
    `${copies.length} ID-mapped ${copies.length === 1 ? 'copy' : 'copies'} of image top layers: each is a full copy of the layer with every file chowned, made when a container asked for a UID/GID mapping the layer did not have and the store could not show it through an idmapped mount (${nonContiguous} of them for non-contiguous mappings, --uidmap/--gidmap with several ranges).`,
    'A copy stays until its image is removed: removing the container does not free it, and `podman system df` counts bytes only, so it never shows them.',
  ];
  const mp = x.store.mountProgram ?? (x.madeWithMountProgram ? 'a mount program' : null);
  const v = x.podman;
  if (mp) why.push(`This store uses ${mp} (fuse-overlayfs): it cannot use idmapped mounts, so every new mapping makes a copy whatever the podman version.`);
  if (x.store.rootless) why.push('This is a rootless store: rootless overlay cannot use idmapped mounts (they need privileges in the initial user namespace), so every new mapping makes a copy.');
  if (atLeast(v, '5.6') === false) why.push(`Podman ${v} predates Podman 5.6 (containers/storage 1.59), which shows non-contiguous mappings through idmapped mounts instead of copying.`);
  else if (atLeast(v, '5.6')) why.push(`Podman ${v} uses idmapped mounts for non-contiguous mappings${mp || x.store.rootless ? ', but not for this store (above)' : ': these copies were made by an older version, or with _CONTAINERS_OVERLAY_DISABLE_IDMAP=yes set'}.`);
  else if (x.store.engine === 'podman') why.push('podman is not installed here, so which version made them is unknown (buildah and CRI-O use the same containers/storage).');

  const fixes: Fix[] = [];
  for (const i of imgs.slice(0, 5)) {
    const name = i.names[0] ?? i.id.slice(0, 12);
    const users = [...new Set([...i.containers, ...i.copies.flatMap((c) => c.containers)].map((c) => c.names[0] ?? c.id.slice(0, 12)))];
    fixes.push({
      text: `Free ${name}'s ${i.copies.length} ${i.copies.length === 1 ? 'copy' : 'copies'}: remove ${users.length ? `its ${users.length} container${users.length === 1 ? '' : 's'}, then ` : ''}the image, and pull or import it again${asUser(x)}`,
      command: (users.length ? podmanCmd(x, `rm ${users.map(shellArg).join(' ')}`) + ' && ' : '') + podmanCmd(x, `rmi ${shellArg(name)}`),
    });
  }
  if (imgs.length > 5) fixes.push({ text: `${imgs.length - 5} more images have copies (see enospc containers)` });
  if (mp) fixes.push({ text: 'Without a mount program (native overlay, kernel 5.13+ for rootless) copies are made only where idmapped mounts cannot be used; changing it needs an empty store (podman system reset removes every image and container)' });
  else if (atLeast(v, '5.6') === false) fixes.push({ text: 'Upgrade to Podman 5.6 or later (containers/storage 1.59): new non-contiguous mappings then use idmapped mounts and make no copies' });
  fixes.push({ text: 'Until then, reuse a few fixed --uidmap/--gidmap sets rather than a new one per container: each distinct set is one more copy' });
  return { why, fixes };
}

export function explainUnreferenced(x: ExplainInput): Advice | null {
  const a = x.analysis;
  if (!a.unreferenced.length && !a.stray.length) return null;
  const why: string[] = [];
  const fixes: Fix[] = [];
  const dir = x.store.engine === 'docker' ? 'overlay2/' : `${x.store.driver}/`;
  if (a.unreferenced.length) why.push(`${a.unreferenced.length} layer${a.unreferenced.length === 1 ? ' is' : 's are'} used by no image and no container (left by an interrupted pull, build or removal).`);
  if (a.stray.length) why.push(`${a.stray.length} director${a.stray.length === 1 ? 'y' : 'ies'} in ${dir} ${a.stray.length === 1 ? 'is' : 'are'} named by no layer${x.store.engine === 'docker' ? ', cache-id, mount-id or init-id' : ' in layers.json'}: the engine no longer knows ${a.stray.length === 1 ? 'it' : 'them'} and will never remove ${a.stray.length === 1 ? 'it' : 'them'}.`);
  if (x.store.engine === 'docker') {
    if (a.unreferenced.length) fixes.push({ text: 'Remove unused images and their layers', command: 'docker image prune -a' });
    const shown = a.stray.slice(0, 20);
    if (a.stray.length) fixes.push({ text: `\`docker system prune -af\` does not remove directories Docker does not know (moby #45939): with the daemon stopped, and the names checked against layerdb once more, remove them${a.stray.length > shown.length ? ` (the first ${shown.length} of ${a.stray.length}; enospc containers lists the rest)` : ''}`, command: `systemctl stop docker && rm -rf -- ${shown.map((d) => shellArg(d.path)).join(' ')}` });
    return { why, fixes };
  }
  if (atLeast(x.podman, '5.2') === false) {
    fixes.push({ text: `Podman ${x.podman} has no \`podman system check\` (5.2+): upgrade, then run it; \`podman system reset\` also frees them but removes every image and container` });
  } else {
    fixes.push({ text: `Remove them with podman's own check${asUser(x)}; unreferenced layers younger than --max (24h) are kept, in case a pull is still using them`, command: podmanCmd(x, 'system check --repair') });
  }
  return { why, fixes };
}
