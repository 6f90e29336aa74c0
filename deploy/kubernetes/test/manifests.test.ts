import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '#infra';
import {
  OVERLAYS,
  allViolations,
  buildkitViolations,
  deployment,
  environmentOf,
  faaslineRoleViolations,
  ingressViolations,
  kafkaViolations,
  networkPolicyViolations,
  podSecurityViolations,
  podViolations,
  postgresViolations,
  registryViolations,
  render,
  routerOf,
  schemaViolations,
  secretViolations,
  selectionViolations,
  type K8sObject,
  type Overlay,
} from './manifests.js';

// Rendering runs kubectl kustomize once per overlay; every test reads the same objects.
const rendered = new Map<Overlay, K8sObject[]>();
beforeAll(() => {
  for (const overlay of OVERLAYS) rendered.set(overlay, render(overlay));
});
const objectsOf = (overlay: Overlay) => rendered.get(overlay)!;

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  it('has every engine faasline runs on', () => {
    const kinds = new Set(objectsOf(overlay).map((object) => object.kind));
    for (const kind of [
      'Deployment',
      'Ingress',
      'NetworkPolicy',
      'Kafka',
      'KafkaNodePool',
      'KafkaTopic',
      'Cluster',
      'ScheduledBackup',
      'Certificate',
    ])
      expect(kinds).toContain(kind);
    expect(deployment(objectsOf(overlay), 'buildkitd')).toBeDefined();
    expect(deployment(objectsOf(overlay), 'registry')).toBeDefined();
  });

  it("builds every object with its kubernetes-models class and passes its schema (operators' kinds: their CRDs' required fields)", () =>
    expect(schemaViolations(objectsOf(overlay))).toEqual([]));

  it('runs every container non-root on a read-only root, limited, probed, with a pinned image', () =>
    expect(podViolations(objectsOf(overlay))).toEqual([]));

  it('enforces Pod Security: restricted for faasline, privileged only for the rootless BuildKit daemon', () =>
    expect(podSecurityViolations(objectsOf(overlay))).toEqual([]));

  it('runs each faasline role from the one entrypoint, probed on /readyz and /healthz, with scratch on emptyDir', () =>
    expect(faaslineRoleViolations(objectsOf(overlay))).toEqual([]));

  it('writes no secret value: secrets come from Secret references', () => expect(secretViolations(objectsOf(overlay))).toEqual([]));

  it('budgets disruptions and autoscales ingress and pipeline, and every Service has pods behind it', () =>
    expect(selectionViolations(objectsOf(overlay))).toEqual([]));

  it('serves every public host over TLS from a cert-manager Certificate', () => expect(ingressViolations(objectsOf(overlay))).toEqual([]));

  it("denies by default in faasline's and the functions' namespaces, and functions reach neither faasline, Kafka nor Postgres", () =>
    expect(networkPolicyViolations(objectsOf(overlay))).toEqual([]));

  it('keeps the event topic as faasline creates it: replicated 3 times, 2 in sync, kept forever', () =>
    expect(kafkaViolations(objectsOf(overlay))).toEqual([]));

  it('archives WAL and takes nightly base backups to an object store with Secret credentials', () =>
    expect(postgresViolations(objectsOf(overlay))).toEqual([]));

  it('has the pipeline and BuildKit authenticate each other with certificates from one private CA', () =>
    expect(buildkitViolations(objectsOf(overlay))).toEqual([]));

  it('moves images only with a login (push credentials lent over the BuildKit session) and serves no build context publicly', () =>
    expect(registryViolations(objectsOf(overlay))).toEqual([]));

  it.each(['faasline-ingress', 'faasline-pipeline', 'faasline-projector'])('starts %s with settings faasline accepts', (name) => {
    const config = loadConfig(environmentOf(objectsOf(overlay), name), '/');
    expect(config.databaseUrl).toMatch(/^postgres:/);
    expect(config.kafka?.replicationFactor).toBe(3);
    expect(config.openfaasUrl).toBe('http://gateway.openfaas.svc:8080');
    expect(config.buildkitAddr).toBe('tcp://buildkitd.faasline-build.svc:1234');
    expect(config.host).toBe('0.0.0.0');
    // The projector has no API port: without HEALTH_PORT its probes would find nothing.
    if (name === 'faasline-projector') expect(config.healthPort).toBe(8080);
  });
});

describe('the overlays', () => {
  const size = (objects: K8sObject[], name: string) => {
    const spec = deployment(objects, name)?.spec;
    const resources = spec?.template.spec?.containers[0]?.resources;
    return { replicas: spec?.replicas, requests: resources?.requests, limits: resources?.limits };
  };
  const field = (objects: K8sObject[], kind: string, path: string[]) =>
    objects
      .filter((object) => object.kind === kind)
      .map((object) => path.reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], object));

  it('give production more and larger faasline replicas than small', () => {
    for (const name of ['faasline-ingress', 'faasline-pipeline', 'faasline-projector']) {
      const small = size(objectsOf('small'), name);
      const production = size(objectsOf('production'), name);
      expect(production.replicas).toBeGreaterThan(small.replicas!);
      expect(production.limits).not.toEqual(small.limits);
      expect(production.requests).not.toEqual(small.requests);
    }
  });

  it('give production more Postgres instances and Kafka controllers apart from brokers', () => {
    expect(field(objectsOf('small'), 'Cluster', ['spec', 'instances'])).toEqual([2]);
    expect(field(objectsOf('production'), 'Cluster', ['spec', 'instances'])).toEqual([3]);
    expect(field(objectsOf('small'), 'KafkaNodePool', ['spec', 'roles'])).toEqual([['controller', 'broker']]);
    expect(field(objectsOf('production'), 'KafkaNodePool', ['spec', 'roles']).sort()).toEqual([['broker'], ['controller']]);
  });
});

describe('the edge router', () => {
  // Checked against nginx 1.22 itself with the same requests; here from the regexes in its ConfigMap.
  it.each([
    ['alexellis.functions.example.com', '/fn1', '/function/alexellis-fn1'],
    ['Alexellis.Functions.Example.com', '/fn1/sub/path?x=1&y=2', '/function/alexellis-fn1/sub/path?x=1&y=2'],
    ['a-b.functions.example.com', '/fn-2/', '/function/a-b-fn-2/'],
    ['alexellis.functions.example.com', '/fn1/a%20b?q=a%20b', '/function/alexellis-fn1/a%20b?q=a%20b'],
    ['alexellis.functions.example.com', '/fn1/.well-known', '/function/alexellis-fn1/.well-known'],
  ])('sends %s%s to the gateway at %s', (host, path, upstream) => expect(routerOf(objectsOf('small'))(host, path)).toBe(upstream));

  it.each([
    ['alexellis.functions.example.com', '/fn1/../other'],
    ['alexellis.functions.example.com', '/fn1/%2e%2e/other'],
    ['alexellis.functions.example.com', '/fn1/%2E%2E/other'],
    ['alexellis.functions.example.com', '/fn1%2fother'],
    ['alexellis.functions.example.com', '/fn1/./x'],
    ['alexellis.functions.example.com', '/fn1\\..\\x'],
    ['localhost', '/fn1'],
    ['-bad.functions.example.com', '/fn1'],
  ])("refuses %s%s with 400: no request leaves the owner's own functions", (host, path) =>
    expect(routerOf(objectsOf('small'))(host, path)).toBe('400'),
  );

  it.each([['/'], ['/?a=1'], ['/Fn1'], ['//fn1']])('answers %s itself: no function is named so', (path) =>
    expect(routerOf(objectsOf('small'))('alexellis.functions.example.com', path)).toBe('404'),
  );
});

/** The small overlay with one thing broken; `break` changes the copy in place. */
function broken(change: (objects: K8sObject[]) => void): string[] {
  const objects = structuredClone(objectsOf('small'));
  change(objects);
  return allViolations(objects);
}
const find = (objects: K8sObject[], kind: string, name: string, namespace = 'faasline') =>
  objects.find(
    (object) => object.kind === kind && object.metadata.name === name && (object.metadata.namespace ?? namespace) === namespace,
  )!;
type PodTemplate = { template: { spec: { containers: Record<string, unknown>[] } } };
const firstContainer = (objects: K8sObject[], name: string) =>
  (find(objects, 'Deployment', name).spec as PodTemplate).template.spec.containers[0]!;

describe('the rules', () => {
  it('refuse a container without limits', () =>
    expect(
      broken((objects) => {
        (firstContainer(objects, 'registry').resources as Record<string, unknown>).limits = undefined;
      }),
    ).toContain('Deployment faasline/registry container registry: no limits.memory'));

  it.each([['registry:latest'], ['registry'], ['docker.io/library/registry']])('refuse the unpinned image %s', (image) =>
    expect(
      broken((objects) => {
        firstContainer(objects, 'registry').image = image;
      }),
    ).toContain(`Deployment faasline/registry container registry: image ${image} is not pinned`),
  );

  it('refuse a writable root filesystem', () =>
    expect(
      broken((objects) => {
        (firstContainer(objects, 'faasline-router').securityContext as Record<string, unknown>).readOnlyRootFilesystem = false;
      }),
    ).toContain('Deployment faasline/faasline-router container nginx: root filesystem is writable'));

  it('refuse another Deployment in the privileged build namespace', () =>
    expect(
      broken((objects) => {
        find(objects, 'Deployment', 'registry').metadata.namespace = 'faasline-build';
      }),
    ).toContain('Deployment registry runs in the privileged namespace faasline-build'));

  it('refuse a faasline role probed elsewhere than /readyz', () =>
    expect(
      broken((objects) => {
        (firstContainer(objects, 'faasline-pipeline').readinessProbe as { httpGet: { path: string } }).httpGet.path = '/healthz';
      }),
    ).toContain('Deployment faasline-pipeline: readiness probe is not GET /readyz'));

  it('refuse a literal secret in an env value', () =>
    expect(
      broken((objects) => {
        const env = firstContainer(objects, 'faasline-ingress').env as { name: string; value?: string; valueFrom?: unknown }[];
        env.push({ name: 'GITHUB_TOKEN', value: 'ghp_example' });
      }),
    ).toContain('Deployment faasline-ingress: GITHUB_TOKEN is not from a secretKeyRef'));

  it('refuse a secret in a ConfigMap and a Secret object', () => {
    const violations = broken((objects) => {
      find(objects, 'ConfigMap', 'faasline-config').data!.ADMIN_TOKEN = 'example';
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'faasline-secrets', namespace: 'faasline' }, data: {} });
    });
    expect(violations).toContain('ConfigMap faasline-config: ADMIN_TOKEN holds a secret');
    expect(violations).toContain('Secret faasline/faasline-secrets: a Secret with literal values');
  });

  it('refuse a registry without logins, a pipeline without push credentials and a public build-context path', () => {
    const violations = broken((objects) => {
      const registry = firstContainer(objects, 'registry') as { env: { name: string; value?: string }[] };
      registry.env = registry.env.filter((env) => env.name !== 'REGISTRY_AUTH');
      const pipeline = firstContainer(objects, 'faasline-pipeline') as { env: { name: string }[] };
      pipeline.env = pipeline.env.filter((env) => env.name !== 'REGISTRY_AUTH_FILE');
      const ingress = find(objects, 'Ingress', 'faasline-api').spec as { rules: { http: { paths: { path: string }[] } }[] };
      ingress.rules[0]!.http.paths.push({ ...ingress.rules[0]!.http.paths[0]!, path: '/internal/build-contexts' });
    });
    expect(violations).toContain('the registry takes pushes and pulls without a login');
    expect(violations).toContain('the pipeline has no REGISTRY_AUTH_FILE in a read-only Secret volume');
    expect(violations).toContain('an Ingress routes /internal/build-contexts from outside');
  });

  it('refuse an object its schema rejects', () =>
    expect(
      broken((objects) => {
        (find(objects, 'Deployment', 'registry').spec as Record<string, unknown>).replicas = 'one';
      }).some((violation) => violation.startsWith('Deployment faasline/registry: data/spec/replicas must be integer')),
    ).toBe(true));

  it("refuse an operator's object without a field its CRD requires", () =>
    expect(
      broken((objects) => {
        (find(objects, 'KafkaNodePool', 'dual-role', 'faasline-kafka').spec as Record<string, unknown>).roles = undefined;
      }),
    ).toContain('KafkaNodePool faasline-kafka/dual-role: spec.roles must list controller and/or broker'));

  it('refuse Kafka and Postgres whose versions the operators would choose', () => {
    const violations = broken((objects) => {
      (find(objects, 'Kafka', 'faasline', 'faasline-kafka').spec as { kafka: { version?: string } }).kafka.version = undefined;
      (find(objects, 'Cluster', 'faasline-pg', 'faasline-postgres').spec as { imageName?: string }).imageName =
        'ghcr.io/cloudnative-pg/postgresql';
    });
    expect(violations).toContain('Kafka version is not pinned');
    expect(violations).toContain('the Postgres image is not pinned');
  });

  it('refuse a topic with fewer than 3 replicas', () =>
    expect(
      broken((objects) => {
        (find(objects, 'KafkaTopic', 'faasline.events', 'faasline-kafka').spec as { replicas: number }).replicas = 1;
      }),
    ).toContain('topic replication 1, not 3'));

  it("refuse the functions' namespace without its default deny", () =>
    expect(
      broken((objects) => objects.splice(objects.indexOf(find(objects, 'NetworkPolicy', 'default-deny', 'openfaas-fn')), 1)),
    ).toContain('namespace openfaas-fn has no default-deny NetworkPolicy'));

  it("refuse a policy letting functions reach faasline's namespace", () =>
    expect(
      broken((objects) => {
        const policy = find(objects, 'NetworkPolicy', 'to-dns', 'openfaas-fn');
        (policy.spec as { egress: { to: unknown[] }[] }).egress[0]!.to.push({
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'faasline' } },
        });
      }),
    ).toContain('NetworkPolicy openfaas-fn/to-dns: functions may reach faasline'));

  it('refuse an Ingress without TLS', () =>
    expect(
      broken((objects) => {
        (find(objects, 'Ingress', 'faasline-api').spec as Record<string, unknown>).tls = [];
      }),
    ).toContain('Ingress faasline/faasline-api: host faasline.example.com has no TLS'));

  it('refuse a Service that selects no pods, and ingress without a disruption budget', () => {
    const violations = broken((objects) => {
      (find(objects, 'Service', 'registry').spec as { selector: Record<string, string> }).selector = {
        'app.kubernetes.io/name': 'registri',
      };
      objects.splice(objects.indexOf(find(objects, 'PodDisruptionBudget', 'faasline-ingress')), 1);
    });
    expect(violations).toContain("Service registry selects no Deployment's pods");
    expect(violations).toContain('no PodDisruptionBudget selects the ingress pods');
  });
});
