// Thin Azure client for `c360 adf deploy`: reads the factory's current state and applies plan steps. The SDK client
// (@azure/arm-datafactory + DefaultAzureCredential) does the trigger start/stop and the deletes; reads and
// create/update go to the REST API with the same credential, so what is PUT is exactly the JSON the tests validate
// against the official schema (the SDK's models would reshape typeProperties).
import { DataFactoryManagementClient } from '@azure/arm-datafactory';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { CurrentResource, CurrentState, DeployKind, PlanStep } from './deploy-plan.ts';

const API = '2018-06-01';
const SEGMENT: Record<DeployKind, string> = {
  linkedService: 'linkedservices',
  dataset: 'datasets',
  pipeline: 'pipelines',
  trigger: 'triggers',
  globalParameters: 'globalParameters',
};

export interface FactoryTarget {
  subscription: string;
  resourceGroup: string;
  factory: string;
}

export interface FactoryClientOptions {
  credential?: TokenCredential;
  /** ARM endpoint (default https://management.azure.com). */
  endpoint?: string;
  /** HTTP for the REST reads and PUTs (default: global fetch). */
  fetch?: typeof fetch;
  /** HTTP client of the SDK calls (tests pass an in-memory one). */
  httpClient?: HttpClient;
}

export class FactoryClient {
  private readonly client: DataFactoryManagementClient;
  private readonly credential: TokenCredential;
  private readonly endpoint: string;
  private readonly fetch: typeof fetch;
  constructor(private readonly target: FactoryTarget, options: FactoryClientOptions = {}) {
    this.credential = options.credential ?? new DefaultAzureCredential();
    this.endpoint = (options.endpoint ?? 'https://management.azure.com').replace(/\/$/, '');
    this.fetch = options.fetch ?? fetch;
    this.client = new DataFactoryManagementClient(this.credential, target.subscription, {
      endpoint: this.endpoint,
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
  }

  private url(kind: DeployKind, name?: string): string {
    const t = this.target;
    const base = `${this.endpoint}/subscriptions/${t.subscription}/resourceGroups/${t.resourceGroup}/providers/Microsoft.DataFactory/factories/${t.factory}/${SEGMENT[kind]}`;
    return `${base}${name ? `/${encodeURIComponent(name)}` : ''}?api-version=${API}`;
  }

  private async rest(method: 'GET' | 'PUT', url: string, body?: unknown): Promise<any> {
    const token = await this.credential.getToken(`${this.endpoint}/.default`);
    if (!token) throw new Error(`no Azure token for ${this.endpoint} (az login?)`);
    const response = await this.fetch(url, {
      method,
      headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 404 && method === 'GET') return undefined;
    if (response.status >= 300) throw new Error(`${method} ${url} -> HTTP ${response.status}: ${text.slice(0, 2000)}`);
    return text ? JSON.parse(text) : undefined;
  }

  private async list(kind: Exclude<DeployKind, 'globalParameters'>): Promise<CurrentResource[]> {
    const out: CurrentResource[] = [];
    let url: string | undefined = this.url(kind);
    while (url) {
      const page: { value?: { name: string; properties?: Record<string, unknown> }[]; nextLink?: string } = await this.rest('GET', url);
      for (const r of page?.value ?? []) {
        out.push({ name: r.name, properties: r.properties, ...(kind === 'trigger' ? { runtimeState: String(r.properties?.runtimeState ?? 'Stopped') } : {}) });
      }
      url = page?.nextLink;
    }
    return out;
  }

  async currentState(): Promise<CurrentState> {
    const [linkedService, dataset, pipeline, trigger] = await Promise.all([
      this.list('linkedService'),
      this.list('dataset'),
      this.list('pipeline'),
      this.list('trigger'),
    ]);
    const globals = await this.rest('GET', this.url('globalParameters', 'default'));
    return { linkedService, dataset, pipeline, trigger, globalParameters: globals ? [{ name: 'default', properties: globals.properties }] : [] };
  }

  async apply(step: PlanStep): Promise<void> {
    const { resourceGroup: g, factory: f } = this.target;
    switch (step.action) {
      case 'unchanged':
        return;
      case 'create':
      case 'update':
        await this.rest('PUT', this.url(step.kind, step.name), { properties: step.properties });
        return;
      case 'stop-trigger':
        await this.client.triggers.beginStopAndWait(g, f, step.name);
        return;
      case 'start-trigger':
        await this.client.triggers.beginStartAndWait(g, f, step.name);
        return;
      case 'delete':
        if (step.kind === 'trigger') await this.client.triggers.delete(g, f, step.name);
        else if (step.kind === 'pipeline') await this.client.pipelines.delete(g, f, step.name);
        else if (step.kind === 'dataset') await this.client.datasets.delete(g, f, step.name);
        else if (step.kind === 'linkedService') await this.client.linkedServices.delete(g, f, step.name);
        return;
    }
  }
}
