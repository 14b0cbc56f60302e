// Container stores as enospc sees them: the metadata of containers/storage (podman, buildah,
// CRI-O) and of Docker's overlay2 driver, brought to one shape so one analysis serves both.
// Readers only read: they never lock, write or repair a store.
import fs from 'node:fs';

/** Directory names in a driver's layer directory, without the driver's own (`l`, dot names), sorted. Throws what readdir throws. */
export function layerDirNames(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'l' && !d.name.startsWith('.'))
    .map((d) => d.name).sort();
}

export interface IdMapEntry {
  containerId: number;
  hostId: number;
  size: number;
}

export interface StoreLayer {
  /** containers/storage layer ID; Docker: the chain ID (sha256 hex), or a container's mount ID */
  id: string;
  parent: string | null;
  /** digest of the uncompressed layer content: equal digests, equal content */
  diffDigest: string | null;
  diffSize: number | null;
  created: string | null;
  uidmap: IdMapEntry[];
  gidmap: IdMapEntry[];
  /** containers/storage `flags.incomplete`: a layer half made (creation interrupted) */
  incomplete: boolean;
  /** from volatile-layers.json */
  volatile: boolean;
  /** the layer's directory under the driver's directory (Docker: its cache-id) */
  dirName: string | null;
}

export interface StoreImage {
  id: string;
  names: string[];
  /** the image's top layer ID (Docker: the chain ID of its last diff) */
  topLayer: string | null;
  /** IDs of ID-mapped copies of the top layer (containers/storage `mapped-layers`) */
  mappedLayers: string[];
  created: string | null;
}

export interface StoreContainer {
  id: string;
  names: string[];
  image: string | null;
  /** the container's own read-write layer(s) (Docker: its mount ID and init ID) */
  layers: string[];
  uidmap: IdMapEntry[];
  gidmap: IdMapEntry[];
}

export interface StoreError {
  /** the file that could not be read or made no sense */
  file: string;
  error: string;
}

export interface StoreFacts {
  engine: 'podman' | 'docker';
  /** the graph root: /var/lib/containers/storage, /var/lib/docker, ... */
  root: string;
  /** storage driver: overlay, vfs, btrfs, overlay2 */
  driver: string;
  /** the directory holding one directory per layer (ROOT/overlay, ROOT/overlay2, ROOT/vfs/dir) */
  layerDir: string;
  layers: StoreLayer[];
  images: StoreImage[];
  containers: StoreContainer[];
  /** names of the directories in layerDir (not `l` or dot names), null when it cannot be listed */
  dirNames: string[] | null;
  /** metadata that could not be read: the analysis says what it could not check */
  errors: StoreError[];
}
