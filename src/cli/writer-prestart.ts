/**
 * Loaded first by bin/disk-image-create.js, before the command itself: starts the image
 * writer's process at once (prestartWriter), so that its start-up overlaps the loading of the
 * command. Kept apart from the command's bundle so that it runs before that is even parsed.
 */
import { prestartWriter } from '../pipeline/writer-process.js';

prestartWriter(process.argv.slice(2));
