// Typed shapes of the Data Factory resources we emit (the official schema has no additionalProperties:false, so the
// types are what catches a misspelt property). Casing follows the 2018-06-01 schema.
import type { AdfExpression } from './expressions.ts';

export type Value = string | number | boolean | AdfExpression;
export type DependencyCondition = 'Succeeded' | 'Failed' | 'Skipped' | 'Completed';

export interface ActivityDependency {
  activity: string;
  dependencyConditions: DependencyCondition[];
}

interface ActivityBase {
  name: string;
  description?: string;
  dependsOn: ActivityDependency[];
  userProperties: { name: string; value: string }[];
}

export interface ActivityPolicy {
  timeout: string;
  retry: number;
  retryIntervalInSeconds: number;
  secureOutput: boolean;
  secureInput: boolean;
}

export interface WebActivity extends ActivityBase {
  type: 'WebActivity';
  policy?: ActivityPolicy;
  typeProperties: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    url: Value;
    headers?: Record<string, string>;
    body?: Value;
    authentication?: { type: 'MSI'; resource: string };
  };
}

export interface ExecutePipelineActivity extends ActivityBase {
  type: 'ExecutePipeline';
  typeProperties: {
    pipeline: { referenceName: string; type: 'PipelineReference' };
    waitOnCompletion: boolean;
    parameters: Record<string, Value>;
  };
}

export interface ForEachActivity extends ActivityBase {
  type: 'ForEach';
  typeProperties: { items: AdfExpression; isSequential: boolean; batchCount?: number; activities: Activity[] };
}

export interface IfConditionActivity extends ActivityBase {
  type: 'IfCondition';
  typeProperties: { expression: AdfExpression; ifTrueActivities?: Activity[]; ifFalseActivities?: Activity[] };
}

export interface UntilActivity extends ActivityBase {
  type: 'Until';
  typeProperties: { expression: AdfExpression; timeout: string; activities: Activity[] };
}

export interface SwitchActivity extends ActivityBase {
  type: 'Switch';
  typeProperties: { on: AdfExpression; cases: { value: string; activities: Activity[] }[]; defaultActivities?: Activity[] };
}

export interface WaitActivity extends ActivityBase {
  type: 'Wait';
  typeProperties: { waitTimeInSeconds: number | AdfExpression };
}

export interface SetVariableActivity extends ActivityBase {
  type: 'SetVariable';
  typeProperties: { variableName: string; value: Value };
}

export interface FailActivity extends ActivityBase {
  type: 'Fail';
  typeProperties: { message: Value; errorCode: Value };
}

export type Activity =
  | WebActivity
  | ExecutePipelineActivity
  | ForEachActivity
  | IfConditionActivity
  | UntilActivity
  | SwitchActivity
  | WaitActivity
  | SetVariableActivity
  | FailActivity;

export interface PipelineProperties {
  description: string;
  activities: Activity[];
  parameters: Record<string, { type: 'String' | 'Int' | 'Bool' | 'Array'; defaultValue?: unknown }>;
  variables?: Record<string, { type: 'String' | 'Bool' | 'Array'; defaultValue?: unknown }>;
  folder: { name: string };
  annotations: string[];
}

export type ResourceKind = 'linkedService' | 'dataset' | 'pipeline' | 'trigger' | 'globalParameters';

/** One factory resource in git-mode shape: { name, properties } plus what the ARM template and the deployer need. */
export interface FactoryResource {
  kind: ResourceKind;
  name: string;
  properties: Record<string, unknown>;
  /** Names of resources this one references, as "<kind>:<name>" (ARM dependsOn and deploy order). */
  references: string[];
}

export const ARM_TYPES: Record<ResourceKind, string> = {
  linkedService: 'Microsoft.DataFactory/factories/linkedservices',
  dataset: 'Microsoft.DataFactory/factories/datasets',
  pipeline: 'Microsoft.DataFactory/factories/pipelines',
  trigger: 'Microsoft.DataFactory/factories/triggers',
  globalParameters: 'Microsoft.DataFactory/factories/globalParameters',
};

/** ADF limits an activity name to 55 characters. */
export const MAX_ACTIVITY_NAME = 55;

export function base(name: string, dependsOn: ActivityDependency[] = [], description?: string): ActivityBase {
  if (name.length > MAX_ACTIVITY_NAME) throw new Error(`ADF activity name '${name}' is longer than ${MAX_ACTIVITY_NAME} characters`);
  if (!/^[A-Za-z0-9_][^<>*#.%&:\\+?/]*$/.test(name)) throw new Error(`ADF activity name '${name}' has a character ADF does not allow`);
  return { name, ...(description ? { description } : {}), dependsOn, userProperties: [] };
}

export function after(activity: string, ...conditions: DependencyCondition[]): ActivityDependency {
  return { activity, dependencyConditions: conditions.length ? conditions : ['Succeeded'] };
}
