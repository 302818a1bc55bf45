import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { TRACING_ENV } from "../../lib/config.ts";
import { INFRA, ROOT } from "../support/infrastructure.ts";

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  restart?: string;
  deploy?: { replicas?: number };
  command?: string[];
}

/** An OpenTelemetry collector configuration, as far as these checks read it. */
interface CollectorConfig {
  receivers?: Record<string, { protocols?: Record<string, { endpoint?: string }> }>;
  processors?: Record<string, unknown>;
  exporters?: Record<string, unknown>;
  service?: {
    pipelines?: Record<
      string,
      { receivers?: string[]; processors?: string[]; exporters?: string[] }
    >;
  };
}

const composeText = await Deno.readTextFile(`${ROOT}docker-compose.yml`);
// `merge` resolves the `<<: *app` keys the way compose does.
const compose = parseYaml(composeText, { merge: true }) as {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const envExample = await Deno.readTextFile(`${ROOT}.env.example`);

/** Variables .env.example documents, set or commented out (`# NAME=default`). */
const documented = new Set(
  [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
);

/** The names of lib/config.ts's environment schema, read from its source. */
async function configVariables(): Promise<string[]> {
  const source = await Deno.readTextFile(`${ROOT}lib/config.ts`);
  const start = source.indexOf("const EnvSchema = z.object({");
  assert.ok(start >= 0, "lib/config.ts declares EnvSchema");
  const body = source.slice(start, source.indexOf("\n});", start));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
}

Deno.test("compose: every service references only defined volumes, services and profiles", () => {
  const declared = new Set(Object.keys(compose.volumes ?? {}));
  const used = new Set<string>();
  for (const [name, svc] of Object.entries(services)) {
    for (const volume of svc.volumes ?? []) {
      const source = volume.split(":")[0];
      // A source without a slash or dot is a named volume, which must be declared.
      if (!/^[./~]/.test(source)) {
        assert.ok(declared.has(source), `${name} uses undeclared volume ${source}`);
        used.add(source);
      }
    }
    const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
    for (const dep of deps) assert.ok(dep in services, `${name} depends on unknown ${dep}`);
    for (const profile of svc.profiles ?? []) assert.ok(["scale-out", "tracing"].includes(profile));
  }
  assert.deepEqual([...declared].filter((v) => !used.has(v)), [], "declared volumes nobody mounts");
});

Deno.test("compose: every variable compose interpolates is documented in .env.example", () => {
  const interpolated = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
  assert.ok(interpolated.length > 0);
  for (const name of interpolated) {
    assert.ok(documented.has(name), `${name} is not in .env.example`);
  }
  for (const [name, svc] of Object.entries(services)) {
    const files = [svc.env_file ?? []].flat();
    for (const file of files) {
      assert.equal(file, ".env", `${name} reads .env, which .env.example documents`);
    }
  }
});

Deno.test("compose: .env.example documents every setting busysync reads", async () => {
  const required = [
    ...(await configVariables()),
    "DENO_KV_ACCESS_TOKEN",
    "BUSYSYNC_TRUST_PROXY",
    "BUSYSYNC_NOTIFY_WEBHOOK_URL",
    "BUSYSYNC_SMTP_URL",
  ];
  assert.ok(required.length > 20, "EnvSchema was read from lib/config.ts");
  const missing = required.filter((v) => !documented.has(v));
  assert.deepEqual(missing, []);
  assert.doesNotMatch(envExample, /^HOST=/m, "a HOST in .env would override the image's 0.0.0.0");
});

Deno.test("compose: the default app keeps its KV on a named volume, restarts, and listens on loopback only", () => {
  const app = services.app;
  assert.ok(app, "an app service");
  assert.equal(app.profiles, undefined, "runs without naming a profile");
  assert.equal(app.restart, "unless-stopped");
  assert.deepEqual([app.env_file].flat(), [".env"]);
  assert.ok(app.volumes?.some((v) => /^[\w-]+:\/data$/.test(v)), "a named volume at /data");
  assert.equal(app.environment?.BUSYSYNC_KV, "/data/busysync.kv");
  assert.deepEqual(app.ports, ["127.0.0.1:8000:8000"]);
  assert.match(app.image ?? "", /^\$\{BUSYSYNC_IMAGE:-[^}]+\}$/);
  assert.ok(app.build, "can build from the checkout");
});

Deno.test("compose: scale-out runs two replicas on a pinned denokv reached over KV Connect", async () => {
  const replica = services.replica;
  const denokv = services.denokv;
  assert.ok(replica && denokv, "replica and denokv services");
  assert.deepEqual(replica.profiles, ["scale-out"]);
  assert.deepEqual(denokv.profiles, ["scale-out"]);
  assert.equal(replica.deploy?.replicas, 2);
  assert.equal(replica.environment?.BUSYSYNC_KV, "http://denokv:4512");
  assert.equal(replica.restart, "unless-stopped");
  assert.ok(replica.depends_on && "denokv" in replica.depends_on);
  assert.match(
    denokv.image ?? "",
    /^ghcr\.io\/denoland\/denokv:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/,
  );
  assert.equal(denokv.ports, undefined, "denokv is reachable from the compose network only");
  assert.equal(denokv.environment?.DENO_KV_ACCESS_TOKEN, "${DENO_KV_ACCESS_TOKEN}");
  assert.ok(denokv.volumes?.some((v) => v.endsWith(":/data")), "denokv keeps its data on a volume");
  assert.ok(
    !denokv.command?.some((a) => a.includes("TOKEN")),
    "the token stays off the command line",
  );

  // The replicas' loopback ports are the ones nginx's upstream lists.
  const [, from, to] = replica.ports?.[0]?.match(/^127\.0\.0\.1:(\d+)-(\d+):8000$/) ?? [];
  assert.ok(from && to, "replica ports are a loopback range");
  const nginx = await Deno.readTextFile(`${INFRA}nginx/busysync.conf`);
  const upstream = [...nginx.matchAll(/server 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(upstream, [Number(from), Number(to)]);
});

Deno.test("compose: no port of any service is published beyond loopback", () => {
  for (const [name, svc] of Object.entries(services)) {
    for (const port of svc.ports ?? []) {
      assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port}`);
    }
  }
});

Deno.test("compose: the tracing profile runs a pinned collector that takes OTLP/HTTP from the app, and traces stay off unless asked for", async () => {
  const collector = services["otel-collector"];
  assert.ok(collector, "an otel-collector service");
  assert.deepEqual(collector.profiles, ["tracing"]);
  assert.match(
    collector.image ?? "",
    /^otel\/opentelemetry-collector:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/,
  );
  assert.equal(
    collector.ports,
    undefined,
    "the collector is reachable from the compose network only",
  );
  const mount = collector.volumes?.find((v) => v.endsWith(":/etc/otelcol/config.yaml:ro"));
  assert.ok(mount, "the collector reads its configuration from the checkout, read-only");
  assert.ok(collector.command?.includes("--config=/etc/otelcol/config.yaml"));

  const config = parseYaml(
    await Deno.readTextFile(`${ROOT}${mount.split(":")[0].replace(/^\.\//, "")}`),
  ) as CollectorConfig;
  assert.equal(config.receivers?.otlp?.protocols?.http?.endpoint, "0.0.0.0:4318");
  const pipelines = config.service?.pipelines ?? {};
  assert.ok(pipelines.traces, "a traces pipeline");
  for (const [name, pipeline] of Object.entries(pipelines)) {
    for (const kind of ["receivers", "processors", "exporters"] as const) {
      for (const component of pipeline[kind] ?? []) {
        assert.ok(component in (config[kind] ?? {}), `${name} uses undefined ${kind} ${component}`);
      }
    }
  }
  assert.ok(pipelines.traces.receivers?.includes("otlp"));

  // The app's endpoint is the collector's receiver; OTEL_DENO defaults to off, in both the
  // single instance and the replicas.
  const port = config.receivers?.otlp?.protocols?.http?.endpoint?.split(":")[1];
  for (const name of ["app", "replica"]) {
    const env = services[name].environment ?? {};
    assert.equal(env.OTEL_DENO, "${OTEL_DENO:-false}", name);
    assert.equal(
      env.OTEL_EXPORTER_OTLP_ENDPOINT,
      `\${OTEL_EXPORTER_OTLP_ENDPOINT:-http://otel-collector:${port}}`,
      name,
    );
  }

  // The image sets what lib/config.ts insists on with OTEL_DENO=true.
  const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
  for (const [name, value] of Object.entries(TRACING_ENV)) {
    assert.match(dockerfile, new RegExp(`\\b${name}=${value}\\b`));
  }
});
