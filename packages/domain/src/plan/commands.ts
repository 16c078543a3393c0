import type { Command } from '../events/envelope';
import type { PlanDefinition } from './events';

export type CreatePlan = Command<'CreatePlan', { readonly planId: string; readonly definition: PlanDefinition }>;
export type RevisePlan = Command<'RevisePlan', { readonly planId: string; readonly definition: PlanDefinition }>;
export type ArchivePlan = Command<'ArchivePlan', { readonly planId: string }>;
export type PlanCommand = CreatePlan | RevisePlan | ArchivePlan;
