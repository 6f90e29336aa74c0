// The rules deploy/kubernetes keeps, as functions from rendered objects to the ways they are broken ([] when kept),
// so the test can show each rule on the real overlays and on a copy broken on purpose.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import type { Model } from '@kubernetes-models/base';
import { Certificate, ClusterIssuer, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import {
  Ingress,
  NetworkPolicy,
  type IIngress,
  type INetworkPolicy,
  type INetworkPolicyPeer,
} from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Service,
  ServiceAccount,
  type IConfigMap,
  type IContainer,
  type IEnvVar,
  type IService,
} from 'kubernetes-models/v1';

export const KUSTOMIZE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OVERLAYS = ['small', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** A rendered object as kustomize prints it; each rule narrows it to the model type it reads. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  [field: string]: unknown;
};

export function render(overlay: Overlay): K8sObject[] {
  const rendered = execFileSync('kubectl', ['kustomize', `${KUSTOMIZE_ROOT}overlays/${overlay}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return loadAll(rendered).filter((document): document is K8sObject => typeof document === 'object' && document !== null);
}

export const id = (object: K8sObject) => `${object.kind} ${object.metadata.namespace ?? '(cluster)'}/${object.metadata.name}`;
const as = <T>(object: K8sObject) => object as unknown as T;
const ofKind = <T>(objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind).map((object) => as<T>(object));

// ---------------------------------------------------------------------------------------------------------------
// Schemas

type ModelClass = new (data: never) => Model<unknown>;
/** Kinds kubernetes-models (and its cert-manager package) knows: each object is built with its class and validated. */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
  'cert-manager.io/v1/ClusterIssuer': ClusterIssuer,
};

type Json = unknown;
const at = (value: Json, path: string): Json =>
  path
    .split('.')
    .reduce<Json>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, Json>)[key] : undefined), value);
const isInteger = (value: Json, min = 0) => Number.isInteger(value) && (value as number) >= min;
const isText = (value: Json) => typeof value === 'string' && value !== '';
const isSecretKeyRef = (value: Json) => isText(at(value, 'name')) && isText(at(value, 'key'));

/**
 * Operators' kinds, for which no model package is installed here: the fields their official CRDs mark required
 * (Strimzi 0.51 v1beta2, CloudNativePG and its Barman Cloud plugin), with the types the schemas give them.
 */
const CRD_REQUIRED: Readonly<Record<string, (spec: Json) => string[]>> = {
  'kafka.strimzi.io/v1beta2/Kafka': (spec) => {
    const listeners = at(spec, 'kafka.listeners');
    if (!Array.isArray(listeners) || listeners.length === 0) return ['spec.kafka.listeners must be a non-empty list'];
    return listeners.flatMap((listener, index) =>
      isText(at(listener, 'name')) &&
      isInteger(at(listener, 'port'), 9092) &&
      isText(at(listener, 'type')) &&
      typeof at(listener, 'tls') === 'boolean'
        ? []
        : [`spec.kafka.listeners[${index}] needs name, port (9092 or above), type and tls`],
    );
  },
  'kafka.strimzi.io/v1beta2/KafkaNodePool': (spec) => [
    ...(isInteger(at(spec, 'replicas')) ? [] : ['spec.replicas must be a whole number']),
    ...(isText(at(spec, 'storage.type')) ? [] : ['spec.storage.type is required']),
    ...(Array.isArray(at(spec, 'roles')) && (at(spec, 'roles') as Json[]).every((role) => role === 'controller' || role === 'broker')
      ? []
      : ['spec.roles must list controller and/or broker']),
  ],
  'kafka.strimzi.io/v1beta2/KafkaTopic': (spec) => [
    ...(isInteger(at(spec, 'partitions'), 1) ? [] : ['spec.partitions must be at least 1']),
    ...(isInteger(at(spec, 'replicas'), 1) ? [] : ['spec.replicas must be at least 1']),
  ],
  'postgresql.cnpg.io/v1/Cluster': (spec) => [
    ...(isInteger(at(spec, 'instances'), 1) ? [] : ['spec.instances must be at least 1']),
    ...(isText(at(spec, 'storage.size')) ? [] : ['spec.storage.size is required (no storage class template here)']),
  ],
  'postgresql.cnpg.io/v1/ScheduledBackup': (spec) => [
    ...(isText(at(spec, 'cluster.name')) ? [] : ['spec.cluster.name is required']),
    ...(isText(at(spec, 'schedule')) ? [] : ['spec.schedule is required']),
  ],
  'barmancloud.cnpg.io/v1/ObjectStore': (spec) =>
    isText(at(spec, 'configuration.destinationPath')) ? [] : ['spec.configuration.destinationPath is required'],
};

export function schemaViolations(objects: K8sObject[]): string[] {
  return objects.flatMap((object) => {
    const kind = `${object.apiVersion}/${object.kind}`;
    const model = MODELS[kind];
    if (model) {
      try {
        new model(object as never).validate();
        return [];
      } catch (error) {
        return [`${id(object)}: ${(error as Error).message}`];
      }
    }
    const required = CRD_REQUIRED[kind];
    if (required) return required(object.spec).map((problem) => `${id(object)}: ${problem}`);
    return [`${id(object)}: no schema to check ${kind} against`];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Pods

export const FAASLINE_ROLES = ['ingress', 'pipeline', 'projector'] as const;
const roleOf = (deployment: IDeployment) => deployment.spec?.template.metadata?.labels?.['app.kubernetes.io/component'];
const isFaasline = (deployment: IDeployment) => deployment.spec?.template.metadata?.labels?.['app.kubernetes.io/name'] === 'faasline';
const containersOf = (deployment: IDeployment): IContainer[] => [
  ...(deployment.spec?.template.spec?.initContainers ?? []),
  ...(deployment.spec?.template.spec?.containers ?? []),
];

/**
 * Rootless BuildKit needs exactly these relaxations (moby/buildkit docs/rootless.md): an unconfined seccomp and
 * AppArmor profile for rootlesskit's namespaces, and privilege escalation with the default capabilities for the
 * setuid newuidmap. Nothing else is excused, and nothing for any other container.
 */
const ROOTLESS_BUILDKIT = 'faasline-build/buildkitd';

export function podViolations(objects: K8sObject[]): string[] {
  return ofKind<IDeployment>(objects, 'Deployment').flatMap((deployment) => {
    const name = `${deployment.metadata?.namespace}/${deployment.metadata?.name}`;
    const pod = deployment.spec?.template.spec;
    const podSecurity = pod?.securityContext;
    const buildkit = name === ROOTLESS_BUILDKIT;
    return containersOf(deployment).flatMap((container) => {
      const where = `Deployment ${name} container ${container.name}`;
      const security = container.securityContext;
      const problems: string[] = [];
      for (const side of ['requests', 'limits'] as const)
        for (const resource of ['cpu', 'memory'])
          if (container.resources?.[side]?.[resource] === undefined) problems.push(`no ${side}.${resource}`);
      if ((security?.runAsNonRoot ?? podSecurity?.runAsNonRoot) !== true) problems.push('not runAsNonRoot');
      if (security?.readOnlyRootFilesystem !== true) problems.push('root filesystem is writable');
      if (!container.readinessProbe) problems.push('no readiness probe');
      if (!container.livenessProbe) problems.push('no liveness probe');
      const image = container.image ?? '';
      const tag = /^[^@]+:([^/:@]+)$/.exec(image)?.[1];
      if (!image.includes('@sha256:') && (tag === undefined || tag === 'latest')) problems.push(`image ${image || '(none)'} is not pinned`);
      if (!buildkit) {
        if (security?.allowPrivilegeEscalation !== false) problems.push('may escalate privileges');
        if (!security?.capabilities?.drop?.includes('ALL')) problems.push('keeps capabilities (drop ALL)');
        if ((security?.seccompProfile ?? podSecurity?.seccompProfile)?.type !== 'RuntimeDefault')
          problems.push('seccomp is not RuntimeDefault');
      }
      return problems.map((problem) => `${where}: ${problem}`);
    });
  });
}

/** faasline's own processes: one image and entrypoint, the role from FAASLINE_ROLE, probes on its health routes, scratch on emptyDir. */
export function faaslineRoleViolations(objects: K8sObject[]): string[] {
  const deployments = ofKind<IDeployment>(objects, 'Deployment').filter(isFaasline);
  const missing = FAASLINE_ROLES.filter((role) => !deployments.some((deployment) => roleOf(deployment) === role)).map(
    (role) => `no Deployment runs the ${role} role`,
  );
  return [
    ...missing,
    ...deployments.flatMap((deployment) => {
      const role = roleOf(deployment);
      const [container, ...others] = deployment.spec?.template.spec?.containers ?? [];
      const where = `Deployment ${deployment.metadata?.name}`;
      if (!container || others.length > 0) return [`${where}: one faasline container expected`];
      const problems: string[] = [];
      if (container.env?.find((env) => env.name === 'FAASLINE_ROLE')?.value !== role) problems.push(`FAASLINE_ROLE is not ${role}`);
      if (!container.args?.includes('bin/faasline-server.js') && !container.command?.includes('bin/faasline-server.js'))
        problems.push('does not run bin/faasline-server.js');
      if (container.readinessProbe?.httpGet?.path !== '/readyz') problems.push('readiness probe is not GET /readyz');
      if (container.livenessProbe?.httpGet?.path !== '/healthz') problems.push('liveness probe is not GET /healthz');
      if (container.securityContext?.runAsUser !== 10001 && deployment.spec?.template.spec?.securityContext?.runAsUser !== 10001)
        problems.push('does not run as uid 10001');
      const volumes = deployment.spec?.template.spec?.volumes ?? [];
      for (const path of ['/data', '/tmp']) {
        const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === path);
        if (!volumes.find((volume) => volume.name === mount?.name)?.emptyDir) problems.push(`${path} is not an emptyDir`);
      }
      return problems.map((problem) => `${where}: ${problem}`);
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

/** Environment variables and ConfigMap keys that hold secrets by their name (INTERFACE.md's settings). */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL/i;
/** Settings whose value is the name of a Secret, not its content. */
const NAMES_A_SECRET = new Set(['REGISTRY_PULL_SECRET']);
/** Fields of any object that would hold a secret value; `topologyKey` and the like are not one. */
const SECRET_FIELD = /(password|passwd|secret|token|credentials?|apiKey|accessKey|privateKey)$/i;

/**
 * No secret is ever written in a manifest: no Secret objects (a secretGenerator would be one), env values of secret
 * names come from secretKeyRef (or are paths into a mounted Secret), no ConfigMap carries one, and nothing
 * anywhere has a secret-named field with a literal value.
 */
export function secretViolations(objects: K8sObject[]): string[] {
  const problems = objects.filter((object) => object.kind === 'Secret').map((object) => `${id(object)}: a Secret with literal values`);
  for (const deployment of ofKind<IDeployment>(objects, 'Deployment')) {
    const pod = deployment.spec?.template.spec;
    const secretMounts = (container: IContainer) =>
      (container.volumeMounts ?? [])
        .filter((mount) => pod?.volumes?.find((volume) => volume.name === mount.name)?.secret)
        .map((mount) => mount.mountPath.replace(/\/?$/, '/'));
    for (const container of containersOf(deployment))
      for (const env of container.env ?? ([] as IEnvVar[]))
        if (SECRET_NAME.test(env.name) && !isSecretKeyRef(env.valueFrom?.secretKeyRef)) {
          const isMountedPath = env.value !== undefined && secretMounts(container).some((mount) => env.value!.startsWith(mount));
          if (!isMountedPath) problems.push(`Deployment ${deployment.metadata?.name}: ${env.name} is not from a secretKeyRef`);
        }
  }
  for (const configMap of ofKind<IConfigMap>(objects, 'ConfigMap'))
    for (const key of Object.keys(configMap.data ?? {}))
      if (SECRET_NAME.test(key) && !NAMES_A_SECRET.has(key)) problems.push(`ConfigMap ${configMap.metadata?.name}: ${key} holds a secret`);
  const walk = (object: K8sObject, node: Json, path: string) => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(object, item, `${path}[${index}]`));
    else if (typeof node === 'object' && node !== null)
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === 'string' && SECRET_FIELD.test(key)) problems.push(`${id(object)}: ${path}.${key} is a literal secret`);
        walk(object, value, `${path}.${key}`);
      }
  };
  for (const object of objects) walk(object, object.spec, 'spec');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Selection: budgets, autoscalers and Services point at pods that exist

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
const podsIn = (objects: K8sObject[], namespace: string | undefined) =>
  ofKind<IDeployment>(objects, 'Deployment').filter((deployment) => deployment.metadata?.namespace === namespace);

export function selectionViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const faasline = ofKind<IDeployment>(objects, 'Deployment').filter(isFaasline);
  for (const role of ['ingress', 'pipeline']) {
    const deployment = faasline.find((candidate) => roleOf(candidate) === role);
    const labels = deployment?.spec?.template.metadata?.labels;
    const pdb = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget').find((candidate) =>
      selects(candidate.spec?.selector?.matchLabels, labels),
    );
    if (!pdb) problems.push(`no PodDisruptionBudget selects the ${role} pods`);
    else if ((pdb.spec?.minAvailable as number) >= (deployment?.spec?.replicas ?? 1))
      problems.push(`PodDisruptionBudget ${pdb.metadata?.name} lets no ${role} pod be evicted`);
    const hpa = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler').find(
      (candidate) =>
        candidate.spec?.scaleTargetRef.kind === 'Deployment' && candidate.spec.scaleTargetRef.name === deployment?.metadata?.name,
    );
    if (!hpa) problems.push(`no HorizontalPodAutoscaler scales the ${role} Deployment`);
    else if ((hpa.spec?.minReplicas ?? 1) > hpa.spec!.maxReplicas)
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata?.name}: min over max`);
  }
  for (const pdb of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget'))
    if (
      !podsIn(objects, pdb.metadata?.namespace).some((deployment) =>
        selects(pdb.spec?.selector?.matchLabels, deployment.spec?.template.metadata?.labels),
      )
    )
      problems.push(`PodDisruptionBudget ${pdb.metadata?.name} selects no pods`);
  for (const hpa of ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler'))
    if (!podsIn(objects, hpa.metadata?.namespace).some((deployment) => deployment.metadata?.name === hpa.spec?.scaleTargetRef.name))
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata?.name} scales no Deployment here`);
  for (const service of ofKind<IService>(objects, 'Service')) {
    const target = podsIn(objects, service.metadata?.namespace).find((deployment) =>
      selects(service.spec?.selector, deployment.spec?.template.metadata?.labels),
    );
    if (!target) {
      problems.push(`Service ${service.metadata?.name} selects no Deployment's pods`);
      continue;
    }
    const ports = target.spec?.template.spec?.containers.flatMap((container) => container.ports ?? []) ?? [];
    for (const port of service.spec?.ports ?? [])
      if (typeof port.targetPort === 'string' && !ports.some((candidate) => candidate.name === port.targetPort))
        problems.push(`Service ${service.metadata?.name}: no container port named ${port.targetPort}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Edge: TLS on every Ingress, from cert-manager, to Services that exist

/** Installed by OpenFaaS's chart (openfaas/values.yaml), not rendered here. */
const CHART_SERVICES = new Set(['openfaas/gateway']);

export function ingressViolations(objects: K8sObject[]): string[] {
  const certificates = ofKind<{ metadata: { namespace: string }; spec: { secretName: string; dnsNames: string[] } }>(
    objects,
    'Certificate',
  );
  const services = new Set(
    ofKind<IService>(objects, 'Service').map((service) => `${service.metadata?.namespace}/${service.metadata?.name}`),
  );
  return ofKind<IIngress>(objects, 'Ingress').flatMap((ingress) => {
    const where = `Ingress ${ingress.metadata?.namespace}/${ingress.metadata?.name}`;
    const problems: string[] = [];
    const tls = ingress.spec?.tls ?? [];
    for (const rule of ingress.spec?.rules ?? []) {
      const entry = tls.find((candidate) => candidate.hosts?.includes(rule.host ?? ''));
      if (!entry?.secretName) {
        problems.push(`${where}: host ${rule.host} has no TLS`);
        continue;
      }
      const certificate = certificates.find(
        (candidate) => candidate.metadata.namespace === ingress.metadata?.namespace && candidate.spec.secretName === entry.secretName,
      );
      if (!certificate?.spec.dnsNames.includes(rule.host ?? ''))
        problems.push(`${where}: no Certificate for ${rule.host} writes ${entry.secretName}`);
      for (const path of rule.http?.paths ?? []) {
        const backend = `${ingress.metadata?.namespace}/${path.backend.service?.name}`;
        if (!services.has(backend) && !CHART_SERVICES.has(backend)) problems.push(`${where}: backend Service ${backend} does not exist`);
      }
    }
    if ((ingress.spec?.rules ?? []).length === 0) problems.push(`${where}: no rules`);
    return problems;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// NetworkPolicies

export const FUNCTIONS_NAMESPACE = 'openfaas-fn';
/** Where tenants' functions must never connect. */
const PROTECTED_NAMESPACES = ['faasline', 'faasline-build', 'faasline-kafka', 'faasline-postgres'];
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];

const isDefaultDeny = (policy: INetworkPolicy) =>
  Object.keys(policy.spec?.podSelector ?? {}).length === 0 &&
  (['Ingress', 'Egress'] as const).every((type) => policy.spec?.policyTypes?.includes(type)) &&
  (policy.spec?.ingress ?? []).length === 0 &&
  (policy.spec?.egress ?? []).length === 0;

/** Whether a peer of a policy in `namespace` may stand for pods in `target`. */
function peerReaches(peer: INetworkPolicyPeer, namespace: string, target: string): boolean {
  if (peer.ipBlock) return !PRIVATE_RANGES.every((range) => peer.ipBlock!.except?.includes(range));
  if (!peer.namespaceSelector) return namespace === target;
  const { matchLabels = {}, matchExpressions = [] } = peer.namespaceSelector;
  if (matchExpressions.length > 0) return true; // not worth proving narrow: refuse
  return Object.entries(matchLabels).every(([key, value]) => key === 'kubernetes.io/metadata.name' && value === target);
}

export function networkPolicyViolations(objects: K8sObject[]): string[] {
  const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
  const problems: string[] = [];
  for (const namespace of [FUNCTIONS_NAMESPACE, 'faasline', 'faasline-build'])
    if (!policies.some((policy) => policy.metadata?.namespace === namespace && isDefaultDeny(policy)))
      problems.push(`namespace ${namespace} has no default-deny NetworkPolicy`);
  for (const policy of policies.filter((candidate) => candidate.metadata?.namespace === FUNCTIONS_NAMESPACE))
    for (const rule of policy.spec?.egress ?? []) {
      if (!rule.to || rule.to.length === 0) problems.push(`NetworkPolicy ${FUNCTIONS_NAMESPACE}/${policy.metadata?.name}: egress anywhere`);
      for (const peer of rule.to ?? [])
        for (const target of PROTECTED_NAMESPACES)
          if (peerReaches(peer, FUNCTIONS_NAMESPACE, target))
            problems.push(`NetworkPolicy ${FUNCTIONS_NAMESPACE}/${policy.metadata?.name}: functions may reach ${target}`);
    }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Engines: Kafka, Postgres, BuildKit, and the faasline settings that point at them

type KafkaTopic = {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { topicName?: string; partitions: number; replicas: number; config?: Record<string, Json> };
};
type KafkaNodePool = {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { replicas: number; roles: string[]; storage: { type: string } };
};
type Kafka = {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { kafka: { version?: string; config?: Record<string, Json> } };
};

export const faaslineConfig = (objects: K8sObject[]) =>
  ofKind<IConfigMap>(objects, 'ConfigMap').find((configMap) => configMap.metadata?.name === 'faasline-config')?.data ?? {};

export function kafkaViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const [kafka, ...otherClusters] = ofKind<Kafka>(objects, 'Kafka');
  if (!kafka || otherClusters.length > 0) return ['exactly one Kafka cluster expected'];
  // Strimzi picks its image from the version: unset, an operator upgrade would upgrade Kafka unasked.
  if (!/^\d+\.\d+\.\d+$/.test(kafka.spec.kafka.version ?? '')) problems.push('Kafka version is not pinned');
  if (kafka.metadata.annotations?.['strimzi.io/kraft'] !== 'enabled') problems.push('Kafka is not in KRaft mode (strimzi.io/kraft)');
  if (kafka.metadata.annotations?.['strimzi.io/node-pools'] !== 'enabled')
    problems.push('Kafka does not use node pools (strimzi.io/node-pools)');
  const pools = ofKind<KafkaNodePool>(objects, 'KafkaNodePool').filter(
    (pool) => pool.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name,
  );
  const count = (role: string) =>
    pools.filter((pool) => pool.spec.roles?.includes(role)).reduce((sum, pool) => sum + pool.spec.replicas, 0);
  if (count('controller') < 3 || count('controller') % 2 === 0)
    problems.push(`${count('controller')} KRaft controllers: an odd quorum of 3 or more is needed`);
  const config = faaslineConfig(objects);
  const topic = ofKind<KafkaTopic>(objects, 'KafkaTopic').find(
    (candidate) => (candidate.spec.topicName ?? candidate.metadata.name) === config.KAFKA_TOPIC,
  );
  if (!topic) return [...problems, `no KafkaTopic for KAFKA_TOPIC ${config.KAFKA_TOPIC}`];
  if (topic.metadata.labels?.['strimzi.io/cluster'] !== kafka.metadata.name) problems.push('the topic is not bound to the Kafka cluster');
  if (topic.spec.replicas !== 3) problems.push(`topic replication ${topic.spec.replicas}, not 3`);
  if (String(topic.spec.config?.['min.insync.replicas']) !== '2') problems.push('topic min.insync.replicas is not 2');
  if (count('broker') < topic.spec.replicas) problems.push(`${count('broker')} brokers cannot hold ${topic.spec.replicas} replicas`);
  // What kafka.adapter.ts creates the topic with, so Strimzi and faasline agree whichever creates it first.
  if (String(topic.spec.config?.['retention.ms']) !== '-1' || String(topic.spec.config?.['retention.bytes']) !== '-1')
    problems.push('topic retention is not infinite');
  if (topic.spec.config?.['cleanup.policy'] !== 'delete') problems.push('topic is compacted');
  if (config.KAFKA_TOPIC_PARTITIONS !== String(topic.spec.partitions)) problems.push('KAFKA_TOPIC_PARTITIONS differs from the topic');
  if (config.KAFKA_REPLICATION_FACTOR !== String(topic.spec.replicas)) problems.push('KAFKA_REPLICATION_FACTOR differs from the topic');
  return problems;
}

type PgCluster = {
  metadata: { name: string; namespace: string };
  spec: {
    instances: number;
    imageName?: string;
    plugins?: { name: string; isWALArchiver?: boolean; parameters?: Record<string, string> }[];
  };
};
type ObjectStore = { metadata: { name: string; namespace: string }; spec: { configuration: { s3Credentials?: Record<string, Json> } } };
type ScheduledBackup = { metadata: { namespace: string }; spec: { schedule: string; cluster: { name: string }; method?: string } };

export function postgresViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const clusters = ofKind<PgCluster>(objects, 'Cluster');
  if (clusters.length !== 1) return ['exactly one CloudNativePG Cluster expected'];
  const [cluster] = clusters as [PgCluster];
  if (cluster.spec.instances < 2) problems.push('Postgres has no standby');
  // Unset, the operator's default image changes with the operator.
  if (!/:[\w.-]+$|@sha256:/.test(cluster.spec.imageName ?? '') || cluster.spec.imageName?.endsWith(':latest'))
    problems.push('the Postgres image is not pinned');
  const archiver = cluster.spec.plugins?.find((plugin) => plugin.name === 'barman-cloud.cloudnative-pg.io' && plugin.isWALArchiver);
  const store = ofKind<ObjectStore>(objects, 'ObjectStore').find(
    (candidate) =>
      candidate.metadata.namespace === cluster.metadata.namespace && candidate.metadata.name === archiver?.parameters?.barmanObjectName,
  );
  if (!store) problems.push('no WAL archive: the Barman Cloud plugin names no ObjectStore here');
  else {
    const credentials = Object.values(store.spec.configuration.s3Credentials ?? {});
    if (credentials.length === 0 || !credentials.every(isSecretKeyRef)) problems.push('backup credentials are not Secret references');
  }
  const backups = ofKind<ScheduledBackup>(objects, 'ScheduledBackup').filter(
    (backup) => backup.metadata.namespace === cluster.metadata.namespace && backup.spec.cluster.name === cluster.metadata.name,
  );
  if (backups.length === 0) problems.push('no ScheduledBackup of the cluster');
  for (const backup of backups) {
    // CloudNativePG's schedule has six fields, seconds first: a five-field cron means something else.
    if (backup.spec.schedule.trim().split(/\s+/).length !== 6) problems.push(`schedule "${backup.spec.schedule}" is not six-field cron`);
    if (backup.spec.method !== 'plugin') problems.push('the scheduled backup does not go through the plugin');
  }
  return problems;
}

/** The pipeline holds a client certificate and BuildKit a server certificate from the same private CA. */
export function buildkitViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const certificates = ofKind<{ spec: { secretName: string; issuerRef: { name: string }; usages?: string[] } }>(objects, 'Certificate');
  const deployments = ofKind<IDeployment>(objects, 'Deployment');
  const pipeline = deployments.find((deployment) => isFaasline(deployment) && roleOf(deployment) === 'pipeline');
  const buildkitd = deployments.find((deployment) => deployment.metadata?.name === 'buildkitd');
  const secretAt = (deployment: IDeployment | undefined, file: string) => {
    const container = deployment?.spec?.template.spec?.containers[0];
    const mount = container?.volumeMounts?.find((candidate) => file.startsWith(candidate.mountPath.replace(/\/?$/, '/')));
    return deployment?.spec?.template.spec?.volumes?.find((volume) => volume.name === mount?.name)?.secret?.secretName;
  };
  const env = (name: string) => pipeline?.spec?.template.spec?.containers[0]?.env?.find((candidate) => candidate.name === name)?.value;
  const clientSecrets = ['BUILDKIT_TLS_CA', 'BUILDKIT_TLS_CERT', 'BUILDKIT_TLS_KEY'].map((name) => secretAt(pipeline, env(name) ?? ''));
  const args = buildkitd?.spec?.template.spec?.containers[0]?.args ?? [];
  const flag = (name: string) => args[args.indexOf(name) + 1] ?? '';
  const serverSecrets = ['--tlscacert', '--tlscert', '--tlskey'].map((name) =>
    args.includes(name) ? secretAt(buildkitd, flag(name)) : undefined,
  );
  const client = certificates.find((certificate) => certificate.spec.secretName === clientSecrets[0]);
  const server = certificates.find((certificate) => certificate.spec.secretName === serverSecrets[0]);
  if (!client || new Set(clientSecrets).size !== 1)
    problems.push('the pipeline has no client certificate from cert-manager at BUILDKIT_TLS_*');
  if (!server || new Set(serverSecrets).size !== 1)
    problems.push('buildkitd has no server certificate from cert-manager at --tlscacert/--tlscert/--tlskey');
  if (client && server && client.spec.issuerRef.name !== server.spec.issuerRef.name)
    problems.push('client and server certificates come from different CAs');
  if (client && !client.spec.usages?.includes('client auth')) problems.push('the client certificate is not for client auth');
  if (!faaslineConfig(objects).BUILDKIT_ADDR?.startsWith('tcp://buildkitd.'))
    problems.push('BUILDKIT_ADDR does not point at the buildkitd Service');
  return problems;
}

/**
 * Images move only with a login: the pipeline lends BuildKit a push credential from a dockerconfigjson Secret, the
 * in-cluster registry (when there is one) requires htpasswd logins, and no public path serves build contexts.
 */
export function registryViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind<IDeployment>(objects, 'Deployment');
  const pipeline = deployments.find((deployment) => isFaasline(deployment) && roleOf(deployment) === 'pipeline');
  const container = pipeline?.spec?.template.spec?.containers[0];
  const authFile = container?.env?.find((env) => env.name === 'REGISTRY_AUTH_FILE')?.value;
  const mount = authFile
    ? container?.volumeMounts?.find((candidate) => authFile.startsWith(candidate.mountPath.replace(/\/?$/, '/')))
    : undefined;
  if (!mount?.readOnly || !pipeline?.spec?.template.spec?.volumes?.find((volume) => volume.name === mount.name)?.secret?.secretName)
    problems.push('the pipeline has no REGISTRY_AUTH_FILE in a read-only Secret volume');
  const registry = deployments.find((deployment) => deployment.metadata?.name === 'registry');
  if (registry) {
    const env = new Map((registry.spec?.template.spec?.containers[0]?.env ?? []).map((entry) => [entry.name, entry.value]));
    const htpasswd = env.get('REGISTRY_AUTH_HTPASSWD_PATH') ?? '';
    const mounts = registry.spec?.template.spec?.containers[0]?.volumeMounts ?? [];
    const htpasswdMount = mounts.find((candidate) => htpasswd.startsWith(candidate.mountPath.replace(/\/?$/, '/')));
    const fromSecret = registry.spec?.template.spec?.volumes?.find((volume) => volume.name === htpasswdMount?.name)?.secret;
    if (env.get('REGISTRY_AUTH') !== 'htpasswd' || !fromSecret) problems.push('the registry takes pushes and pulls without a login');
  }
  for (const ingress of ofKind<{ spec?: { rules?: { http?: { paths?: { path?: string }[] } }[] } }>(objects, 'Ingress'))
    for (const rule of ingress.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? [])
        if (path.path?.startsWith('/internal')) problems.push(`an Ingress routes ${path.path} from outside`);
  return problems;
}

/**
 * Pod Security admission backs the securityContexts up: faasline's namespace enforces "restricted", every namespace
 * enforces something, and a "privileged" one holds nothing but the rootless BuildKit daemon.
 */
export function podSecurityViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const namespaces = objects.filter((object) => object.kind === 'Namespace');
  const level = (name: string) =>
    namespaces.find((namespace) => namespace.metadata.name === name)?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
  if (level('faasline') !== 'restricted') problems.push('namespace faasline does not enforce the restricted Pod Security level');
  for (const namespace of namespaces) {
    const enforced = namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'];
    if (!enforced) problems.push(`namespace ${namespace.metadata.name} enforces no Pod Security level`);
    if (enforced === 'privileged')
      for (const deployment of ofKind<IDeployment>(objects, 'Deployment'))
        if (
          deployment.metadata?.namespace === namespace.metadata.name &&
          `${namespace.metadata.name}/${deployment.metadata?.name}` !== ROOTLESS_BUILDKIT
        )
          problems.push(`Deployment ${deployment.metadata?.name} runs in the privileged namespace ${namespace.metadata.name}`);
  }
  return problems;
}

/** Every rule at once, for a whole overlay. */
export const allViolations = (objects: K8sObject[]) => [
  ...schemaViolations(objects),
  ...podViolations(objects),
  ...podSecurityViolations(objects),
  ...faaslineRoleViolations(objects),
  ...secretViolations(objects),
  ...selectionViolations(objects),
  ...ingressViolations(objects),
  ...networkPolicyViolations(objects),
  ...kafkaViolations(objects),
  ...postgresViolations(objects),
  ...buildkitViolations(objects),
  ...registryViolations(objects),
];

/** The faasline environment a Deployment's container starts with: its ConfigMap, literal env, and a stand-in for each secret. */
export function environmentOf(objects: K8sObject[], deploymentName: string): Record<string, string> {
  const deployment = ofKind<IDeployment>(objects, 'Deployment').find((candidate) => candidate.metadata?.name === deploymentName);
  const container = deployment?.spec?.template.spec?.containers[0];
  const environment: Record<string, string> = {};
  for (const source of container?.envFrom ?? [])
    Object.assign(
      environment,
      ofKind<IConfigMap>(objects, 'ConfigMap').find((configMap) => configMap.metadata?.name === source.configMapRef?.name)?.data,
    );
  for (const env of container?.env ?? []) {
    const reference = env.valueFrom?.secretKeyRef;
    // A stand-in of the shape each secret has: faasline checks shapes, not values.
    if (reference && !reference.optional)
      environment[env.name] = env.name === 'DATABASE_URL' ? 'postgres://faasline:x@faasline-pg-rw:5432/faasline' : 'stand-in';
    else if (env.value !== undefined) environment[env.name] = env.value;
  }
  return environment;
}

export const deployment = (objects: K8sObject[], name: string) =>
  ofKind<IDeployment>(objects, 'Deployment').find((candidate) => candidate.metadata?.name === name);

// ---------------------------------------------------------------------------------------------------------------
// The edge router

/** nginx's `map` blocks of the router's nginx.conf: variable → [regex, value] pairs, regexes unescaped as nginx reads them. */
function nginxMaps(conf: string): Map<string, { pattern: RegExp; value: string }[]> {
  const maps = new Map<string, { pattern: RegExp; value: string }[]>();
  let current: { pattern: RegExp; value: string }[] | null = null;
  for (const line of conf.split('\n')) {
    const header = /^\s*map \$\w+ \$(\w+) \{$/.exec(line);
    if (header) maps.set(header[1]!, (current = []));
    else if (/^\s*\}$/.test(line)) current = null;
    else {
      const entry = /^\s*"~(\*?)(.*)" (\S+);$/.exec(line);
      if (current && entry)
        current.push({ pattern: new RegExp(entry[2]!.replace(/\\(["'\\])/g, '$1'), entry[1] ? 'i' : ''), value: entry[3]! });
    }
  }
  return maps;
}

const PROXY_PASS = 'proxy_pass http://openfaas_gateway/function/$owner-$function_path$is_args$args;';

/**
 * Where the router sends a request, computed from the regexes in its ConfigMap the way its `location /` uses them:
 * the gateway path it proxies to, or the status it answers itself.
 */
export function routerOf(objects: K8sObject[]): (host: string, requestUri: string) => string {
  const conf =
    ofKind<IConfigMap>(objects, 'ConfigMap').find((configMap) => configMap.metadata?.name === 'faasline-router')?.data?.['nginx.conf'] ??
    '';
  if (!conf.includes(PROXY_PASS) || !conf.includes('server gateway.openfaas.svc.cluster.local:8080;'))
    throw new Error('the router no longer proxies to the gateway as routerOf reads it');
  const maps = nginxMaps(conf);
  const first = (variable: string, input: string) => {
    for (const { pattern, value } of maps.get(variable) ?? []) {
      const match = pattern.exec(input);
      if (match) return value.replace(/\$(\w+)/g, (_, name: string) => match.groups?.[name] ?? '');
    }
    return '';
  };
  return (host, requestUri) => {
    const owner = first('owner', host.toLowerCase());
    if (owner === '') return '400';
    if (first('unsafe_path', requestUri) === '1') return '400';
    const functionPath = first('function_path', requestUri);
    if (functionPath === '') return '404';
    const query = requestUri.includes('?') ? requestUri.slice(requestUri.indexOf('?')) : '';
    return `/function/${owner}-${functionPath}${query}`;
  };
}
