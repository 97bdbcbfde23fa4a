// The activation datasets in the catalogue (src/catalogue/index.ts lists them).
import type { Dataset } from '../catalogue/dataset.ts';
import { audienceEvents, audienceMembership } from './audiences.ts';
import { activationDeadLetters } from './deliver.ts';
import { profileChanges } from './profile-changes.ts';

export const ACTIVATION_DATASETS: readonly Dataset[] = [profileChanges, audienceEvents, audienceMembership, activationDeadLetters];
