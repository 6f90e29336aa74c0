#!/usr/bin/env node
// One entrypoint for every process of a deployment (the container image's): the role picks what runs here.
import { existsSync } from 'node:fs';

const roles = {
  // What `npm start` runs: webhooks, REST, the pipeline steps and the read models in one process.
  all: { main: 'api', env: {} },
  // Webhooks and REST: deliveries are recorded here and the pipeline processes take the work.
  ingress: { main: 'api', env: { FAASLINE_PIPELINE: 'separate', FAASLINE_PROJECTOR: 'separate' } },
  // The pipeline steps (builds, deploys, statuses); it answers health and REST too, but gets no webhook traffic.
  pipeline: { main: 'api', env: { FAASLINE_PROJECTOR: 'separate' } },
  // The read models, scaled out as a consumer group.
  projector: { main: 'projector', env: {} },
  // The embedded OpenFaaS gateway alone, for a deployment without a real OpenFaaS.
  gateway: { main: 'gateway', env: {} },
};

const role = process.argv[2] ?? process.env.FAASLINE_ROLE ?? 'all';
const chosen = Object.hasOwn(roles, role) ? roles[role] : undefined;
if (!chosen) {
  console.error(`faasline-server: unknown role "${role}" (FAASLINE_ROLE or the first argument): one of ${Object.keys(roles).join(', ')}`);
  process.exit(2);
}
const main = new URL(`../dist/apps/${chosen.main}/main.js`, import.meta.url);
if (!existsSync(main)) {
  console.error('faasline-server: faasline is not built yet: run npm run build');
  process.exit(1);
}
Object.assign(process.env, chosen.env, { FAASLINE_ROLE: role });
await import(main.href);
