// The second thread of treeSizes.
import { workerData } from 'node:worker_threads';
import { countShared, type SizesInput } from './tree-sizes.js';

countShared(workerData as SizesInput, 1);
