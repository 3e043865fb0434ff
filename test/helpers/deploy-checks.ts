// Pure helpers of the deployment test: the PromQL of the Grafana dashboard and of the alert rules, the
// Prometheus text format, and Kubernetes manifests checked against the API's JSON schemas.
import YAML from 'yaml';

export interface Expression {
  /** Where it comes from, for messages: 'panel "Error rate" A' or 'alert SentimentApiHighErrorRate'. */
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: Panel[];
}

/** Every target expression of a Grafana dashboard, collapsed rows' panels included. */
export function dashboardExpressions(dashboard: { panels?: Panel[] }): Expression[] {
  const found: Expression[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr === 'string' && target.expr.trim() !== '') found.push({ where: `panel "${panel.title}" ${target.refId ?? ''}`.trim(), expr: target.expr });
      }
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return found;
}

/** Every rule expression (alerting and recording) of a Prometheus rule file. */
export function ruleExpressions(rulesYaml: string): Expression[] {
  const rules = YAML.parse(rulesYaml) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({
    where: rule.alert !== undefined ? `alert ${rule.alert}` : `record ${rule.record}`,
    expr: String(rule.expr).trim(),
  })));
}

/**
 * Grafana's built-in interval variables as Prometheus would see them from Grafana. Throws on any other
 * `$variable`: the dashboard defines none, and the test would not know what to put there.
 */
export function grafanaToPromql(expr: string, { rateInterval = '1m', interval = '15s', range = '1h' } = {}): string {
  const out = expr
    .replace(/\$\{?__rate_interval\}?/g, rateInterval)
    .replace(/\$\{?__interval\}?/g, interval)
    .replace(/\$\{?__range\}?/g, range);
  if (out.includes('$')) throw new Error(`unknown Grafana variable in: ${expr}`);
  return out;
}

/**
 * Splits `A > 0.05` into A, '>' and 0.05 when the last operator at the top level (outside parentheses,
 * braces, brackets and strings) is a comparison with a number on its right; undefined otherwise.
 */
export function splitTopLevelComparison(expr: string): { base: string; op: string; threshold: number } | undefined {
  let depth = 0;
  let quote: string | undefined;
  let last: { index: number; op: string } | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0) {
      const two = expr.slice(i, i + 2);
      if (['==', '!=', '>=', '<='].includes(two)) { last = { index: i, op: two }; i++; }
      else if (c === '>' || c === '<') last = { index: i, op: c };
    }
  }
  if (!last) return undefined;
  const right = expr.slice(last.index + last.op.length).trim().replace(/^bool\s+/, '');
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(right)) return undefined;
  return { base: expr.slice(0, last.index).trim(), op: last.op, threshold: Number(right) };
}

/** The sum of the samples of `name` whose labels include `labels`, from Prometheus text exposition. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) present.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) sum += Number(match[4]);
  }
  return sum;
}

export interface ManifestCheck {
  file: string;
  kind: string;
  name: string;
  errors: string[];
}

/**
 * Validates Kubernetes objects with kubernetes-models (the API's OpenAPI schemas compiled to JSON-schema
 * validators, bundled in the package: no network). `apiVersion` picks the module (apps/v1 →
 * kubernetes-models/apps/v1, v1 → kubernetes-models/v1) and `kind` the model.
 */
export async function validateManifest(file: string, object: { apiVersion?: string; kind?: string; metadata?: { name?: string } }): Promise<ManifestCheck> {
  const check: ManifestCheck = { file, kind: String(object.kind), name: String(object.metadata?.name), errors: [] };
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    check.errors.push('apiVersion and kind are required');
    return check;
  }
  let models: Record<string, unknown>;
  try {
    models = await import(`kubernetes-models/${object.apiVersion}`) as Record<string, unknown>;
  } catch {
    check.errors.push(`unknown apiVersion ${object.apiVersion}`);
    return check;
  }
  const Model = models[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (typeof Model !== 'function') {
    check.errors.push(`unknown kind ${object.kind} in ${object.apiVersion}`);
    return check;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    check.errors.push((error as Error).message);
  }
  return check;
}
