import { type Disposer, Emitter, invalidArgument, isArray, numberOption, objectArgument, parseDuration, type Listener } from '../core/index.js';
import type { HealthReport } from '../health/index.js';
import type { PercentileStats, PercentileTracker } from '../percentiles/index.js';
import type { Alert, AlertCondition, AlertEvents, AlertHealthSource, AlertRule, AlertRulesOptions, AlertSeverity } from './alert-types.js';
import { AlertWebhook, type WebhookStats } from './alert-webhook.js';
import { routeOutcomes } from './route-outcomes.js';

const SEVERITIES: ReadonlySet<string> = new Set<AlertSeverity>(['info', 'warning', 'critical']);

/** A rule, checked, with its condition and durations resolved. */
interface CheckedRule {
  name: string;
  severity: AlertSeverity;
  condition: AlertCondition;
  key: string | undefined;
  /** ms for p99Above, a ratio for errorRatioAbove, unused for a check. */
  threshold: number;
  /** The check name, or `true` for any check. */
  check: string | true | undefined;
  forMs: number;
  window: { window?: number } | undefined;
}

/** One (rule, subject) whose condition holds: pending until `for` has passed, then firing. */
interface State {
  since: number;
  alert: Alert | undefined;
}

/** What a condition found for one subject. */
interface Finding {
  subject: string;
  value: number | null;
  summary: string;
}

/**
 * Alert rules over what the percentile tracker and the health checker already know: a p99 above
 * a budget, an error ratio above a threshold, a check failing, each held for a duration. Made by
 * {@link alertRules}.
 *
 * Rules are evaluated every `interval` on an unref'd timer, never on a request's path. Each
 * (rule, key or check) fires once when its condition has held for `for`, and resolves once when
 * it stops holding. State is kept only for conditions that hold, so memory follows what is wrong,
 * bounded by the tracker's `maxKeys` and the checks registered.
 *
 * @example
 * ```ts
 * import { alertRules, type AlertRules } from 'headroom/dashboard';
 *
 * const alerts: AlertRules = alertRules({
 *   health,
 *   rules: [{ name: 'db', severity: 'critical', checkFailing: 'postgres', for: '30s' }],
 *   webhook: { url: 'https://alerts.example.com/hooks/headroom' }, // your paging service's incoming webhook
 * });
 * alerts.on('firing', (a) => log.error({ rule: a.rule, subject: a.subject }, a.summary));
 * ```
 */
export class AlertRules {
  private readonly tracker: PercentileTracker | undefined;
  private readonly health: AlertHealthSource | undefined;
  private readonly rules: CheckedRule[];
  private readonly events = new Emitter<AlertEvents>();
  private readonly states = new Map<string, State>();
  private readonly webhook: AlertWebhook | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  /** @internal use {@link alertRules} */
  constructor(options: AlertRulesOptions) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'an options object with rules', options);
    objectArgument(options, 'options');
    const tracker = options.percentiles;
    if (tracker !== undefined && (typeof tracker !== 'object' || tracker === null || typeof tracker.stats !== 'function')) {
      throw invalidArgument('percentiles', 'a PercentileTracker', tracker);
    }
    const health = options.health;
    if (health !== undefined && (typeof health !== 'object' || health === null || typeof health.latest !== 'function')) {
      throw invalidArgument('health', 'a HealthChecker', health);
    }
    this.tracker = tracker;
    this.health = health;
    if (!isArray(options.rules) || options.rules.length === 0) throw invalidArgument('rules', 'a non-empty array of rules', options.rules);
    const names = new Set<string>();
    this.rules = options.rules.map((rule, i) => {
      const resolved = resolveRule(rule, `rules[${i}]`, tracker, health);
      if (names.has(resolved.name)) throw invalidArgument(`rules[${i}].name`, 'a name no other rule has', resolved.name);
      names.add(resolved.name);
      return resolved;
    });
    const intervalMs = options.interval === undefined ? 1_000 : parseDuration(options.interval, 'interval', { positive: true });
    this.webhook =
      options.webhook === undefined
        ? undefined
        : new AlertWebhook(options.webhook, (error, message) => {
            if (this.events.has('delivery-error')) this.events.emit('delivery-error', { error, ...message });
          });
    this.timer = setInterval(() => this.evaluate(), intervalMs);
    this.timer.unref();
  }

  /**
   * Listens to `firing`, `resolved` or `delivery-error`; returns a function that removes the
   * listener.
   *
   * @example
   * ```ts
   * const off = alerts.on('firing', (a) => log.warn({ rule: a.rule, subject: a.subject }, a.summary));
   * ```
   */
  on<K extends keyof AlertEvents>(event: K, listener: Listener<AlertEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  /**
   * The alerts firing now, oldest first, with the figures of the last evaluation.
   *
   * @example
   * ```ts
   * app.get('/status', (req, res) => {
   *   const critical = alerts.active().filter((a) => a.severity === 'critical');
   *   res.json({ ok: critical.length === 0, critical: critical.map((a) => a.summary) });
   * });
   * ```
   */
  active(): Alert[] {
    const out: Alert[] = [];
    for (const state of this.states.values()) if (state.alert !== undefined) out.push({ ...state.alert });
    return out.sort((a, b) => a.firedAt - b.firedAt);
  }

  /**
   * Evaluates every rule now (the timer does it every `interval`): fires what has held for its
   * `for`, resolves what stopped holding. Returns the alerts firing afterwards (none after
   * {@link AlertRules.close}, which stops evaluation for good).
   *
   * @example
   * ```ts
   * alerts.evaluate();
   * ```
   */
  evaluate(): Alert[] {
    if (this.closed) return [];
    const now = Date.now();
    const summaries = new Map<string, Record<string, PercentileStats>>();
    let report: HealthReport | undefined | null = null;
    const seen = new Set<string>();
    for (const rule of this.rules) {
      let findings: Finding[];
      if (rule.condition === 'checkFailing') {
        if (report === null) report = this.health?.latest();
        findings = failingChecks(rule, report);
      } else {
        findings = this.trackerFindings(rule, summaries);
      }
      for (const finding of findings) {
        const id = `${rule.name}\u0000${finding.subject}`;
        seen.add(id);
        this.hold(id, rule, finding, now);
      }
    }
    for (const [id, state] of this.states) {
      if (seen.has(id)) continue;
      this.states.delete(id);
      const alert = state.alert;
      if (alert !== undefined && this.events.has('resolved')) this.events.emit('resolved', { ...alert, resolvedAt: now });
      if (alert !== undefined) this.webhook?.send({ status: 'resolved', alert: { ...alert } });
    }
    return this.active();
  }

  /**
   * The webhook's counters (messages delivered, failed or dropped, pending), or `undefined`
   * without a webhook.
   *
   * @example
   * ```ts
   * const { failed } = alerts.webhookStats() ?? { failed: 0 };
   * ```
   */
  webhookStats(): WebhookStats | undefined {
    return this.webhook?.stats();
  }

  /**
   * Stops evaluating, removes every listener and drops the webhook messages not posted yet
   * (the one being posted is aborted). Firing alerts are forgotten without a `resolved` event.
   * Resolves once the webhook has stopped.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => void alerts.close());
   * ```
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.events.clear();
    this.states.clear();
    return this.webhook?.close() ?? Promise.resolve();
  }

  private hold(id: string, rule: CheckedRule, finding: Finding, now: number): void {
    let state = this.states.get(id);
    if (state === undefined) {
      state = { since: now, alert: undefined };
      this.states.set(id, state);
    }
    if (state.alert !== undefined) {
      state.alert.value = finding.value;
      state.alert.summary = finding.summary;
      return;
    }
    if (now - state.since < rule.forMs) return;
    const alert: Alert = {
      rule: rule.name,
      severity: rule.severity,
      condition: rule.condition,
      subject: finding.subject,
      value: finding.value,
      threshold: rule.condition === 'checkFailing' ? null : rule.threshold,
      summary: finding.summary,
      since: state.since,
      firedAt: now,
    };
    state.alert = alert;
    if (this.events.has('firing')) this.events.emit('firing', { ...alert });
    this.webhook?.send({ status: 'firing', alert: { ...alert } });
  }

  private trackerFindings(rule: CheckedRule, summaries: Map<string, Record<string, PercentileStats>>): Finding[] {
    const tracker = this.tracker as PercentileTracker;
    let stats: [string, PercentileStats][];
    if (rule.key !== undefined) {
      stats = [[rule.key, tracker.stats(rule.key, rule.window)]];
    } else {
      const label = String(rule.window?.window ?? '');
      let summary = summaries.get(label);
      if (summary === undefined) {
        summary = tracker.summary(rule.window);
        summaries.set(label, summary);
      }
      stats = Object.entries(summary);
    }
    const findings: Finding[] = [];
    for (const [key, s] of stats) {
      if (s.count === 0) continue;
      if (rule.condition === 'p99Above' && s.p99 > rule.threshold) {
        findings.push({ subject: key, value: s.p99, summary: `p99 of ${key} is ${round(s.p99)} ms, above ${round(rule.threshold)} ms` });
      } else if (rule.condition === 'errorRatioAbove') {
        const ratio = routeOutcomes(tracker, key, s, rule.window ?? {}).errors / s.count;
        if (ratio > rule.threshold) {
          findings.push({ subject: key, value: ratio, summary: `${percent(ratio)} of ${key} answers are errors, above ${percent(rule.threshold)}` });
        }
      }
    }
    return findings;
  }
}

function failingChecks(rule: CheckedRule, report: HealthReport | undefined): Finding[] {
  if (report === undefined) return [];
  const findings: Finding[] = [];
  for (const [name, check] of Object.entries(report.checks)) {
    if (check.status !== 'fail' || (rule.check !== true && rule.check !== name)) continue;
    findings.push({ subject: name, value: null, summary: `health check ${name} is failing${check.output === undefined ? '' : `: ${check.output}`}` });
  }
  return findings;
}

function round(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : String(Math.round(ms * 10) / 10);
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

function resolveRule(rule: AlertRule, at: string, tracker: PercentileTracker | undefined, health: AlertHealthSource | undefined): CheckedRule {
  if (rule === null || typeof rule !== 'object') throw invalidArgument(at, 'a rule object', rule);
  if (typeof rule.name !== 'string' || rule.name.length === 0) throw invalidArgument(`${at}.name`, 'a non-empty string', rule.name);
  if (!SEVERITIES.has(rule.severity)) throw invalidArgument(`${at}.severity`, '"info", "warning" or "critical"', rule.severity);
  const given = (['p99Above', 'errorRatioAbove', 'checkFailing'] as const).filter((c) => rule[c] !== undefined);
  if (given.length !== 1) {
    throw invalidArgument(at, 'exactly one of p99Above, errorRatioAbove or checkFailing', given.length === 0 ? 'none' : given.join(' and '));
  }
  const condition = given[0] as AlertCondition;
  if (rule.for === undefined) throw invalidArgument(`${at}.for`, 'a duration (0 fires at once)', rule.for);
  const forMs = parseDuration(rule.for, `${at}.for`);
  if (rule.key !== undefined && (typeof rule.key !== 'string' || rule.key.length === 0 || rule.key.length > 256)) {
    throw invalidArgument(`${at}.key`, 'a tracker key (a non-empty string of at most 256 characters)', rule.key);
  }
  let window: { window?: number } | undefined;
  if (rule.window !== undefined) {
    const ms = parseDuration(rule.window, `${at}.window`);
    if (tracker !== undefined && !tracker.windows.some((w) => w.windowMs === ms)) {
      throw invalidArgument(`${at}.window`, `one of the tracker's windows (${tracker.windows.map((w) => w.window).join(', ')})`, rule.window);
    }
    window = { window: ms };
  }
  let threshold = 0;
  let check: string | true | undefined;
  if (condition === 'checkFailing') {
    if (health === undefined) throw invalidArgument(`${at}.checkFailing`, 'a rule of alertRules() given a health checker', rule.checkFailing);
    const name = rule.checkFailing;
    if (name !== true && (typeof name !== 'string' || name.length === 0)) throw invalidArgument(`${at}.checkFailing`, 'a check name or true', name);
    check = name;
    if (rule.key !== undefined) throw invalidArgument(`${at}.key`, 'no key on a checkFailing rule', rule.key);
  } else {
    if (tracker === undefined) throw invalidArgument(`${at}.${condition}`, 'a rule of alertRules() given a percentile tracker', rule[condition]);
    threshold =
      condition === 'p99Above'
        ? parseDuration(rule.p99Above, `${at}.p99Above`)
        : numberOption(rule.errorRatioAbove, `${at}.errorRatioAbove`, 0, { min: 0, max: 1 });
  }
  return { name: rule.name, severity: rule.severity, condition, key: rule.key, threshold, check, forMs, window };
}

/**
 * Alert rules over the percentile tracker and the health checker: each rule fires when its
 * condition has held for `for` (a p99 above a budget, an error ratio above a threshold, a
 * health check failing) and resolves when it stops holding, emitting `firing` and `resolved`
 * once per transition. An optional webhook receives each transition as JSON through a bounded
 * queue, with a deadline and retries per POST, off the request path.
 *
 * Pass the result to {@link dashboardHandler} as `alerts` to show what is firing.
 *
 * @throws `INVALID_ARGUMENT` naming the rule and field at fault (`rules[1].for`), for a rule with
 * no condition or two, a `checkFailing` rule without `health`, a bad webhook URL...
 * @example
 * ```ts
 * const alerts = alertRules({
 *   percentiles: tracker,
 *   health,
 *   rules: [
 *     { name: 'slow-report', severity: 'warning', key: 'GET /report', p99Above: '500ms', for: '2m' },
 *     { name: 'errors', severity: 'critical', errorRatioAbove: 0.05, for: '1m' },
 *     { name: 'redis-down', severity: 'critical', checkFailing: 'redis', for: '30s' },
 *   ],
 *   webhook: { url: 'https://alerts.example.com/hooks/headroom', timeout: '2s', retries: 2 },
 * });
 * alerts.on('firing', (a) => console.warn(`[${a.severity}] ${a.summary}`));
 * ```
 */
export function alertRules(options: AlertRulesOptions): AlertRules {
  return new AlertRules(options);
}
