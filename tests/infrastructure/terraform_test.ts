import assert from "node:assert/strict";
import {
  filesUnder,
  type Hcl,
  loadModule,
  parseHcl,
  referencesTo,
  resolvePaths,
  ROOT,
  stringsIn,
  templatePlaceholders,
  TERRAFORM,
  terraformDirs,
  type TfModule,
} from "../support/infrastructure.ts";

const MODULE_META_ARGS = new Set([
  "source",
  "version",
  "providers",
  "count",
  "for_each",
  "depends_on",
]);
const ENVIRONMENTS = ["shared", "development", "production"];

const modules = await Promise.all((await terraformDirs()).map(loadModule));
const byPath = (suffix: string) => {
  const m = modules.find((m) => m.dir.endsWith(suffix));
  assert.ok(m, `no Terraform module at ${suffix}`);
  return m;
};
const rel = (path: string) => path.slice(TERRAFORM.length);

Deno.test("terraform: every .tf and example file parses as HCL", async (t) => {
  const files = await filesUnder(
    TERRAFORM,
    (n) => n.endsWith(".tf") || n.endsWith(".tfvars.example") || n.endsWith(".hcl.example"),
  );
  assert.ok(files.length >= 15, `only ${files.length} Terraform files found`);
  for (const file of files) {
    await t.step(rel(file), async () => {
      await parseHcl(file);
    });
  }
});

Deno.test("terraform: the layout has the server module and the three environments", () => {
  const dirs = modules.map((m) => rel(m.dir)).sort();
  assert.deepEqual(dirs, [
    ...ENVIRONMENTS.map((e) => `environments/${e}`).sort(),
    "modules/server",
  ]);
  for (const env of ["development", "production"]) {
    const m = byPath(`environments/${env}`);
    assert.equal(m.modules.server?.source, "../../modules/server", `${env} uses modules/server`);
    assert.ok(m.outputs.ip && m.outputs.url, `${env} outputs ip and url`);
  }
});

Deno.test("terraform: every var.x and local.x used in a module is declared there", async (t) => {
  for (const m of modules) {
    await t.step(rel(m.dir), () => {
      const everything = [
        m.locals,
        m.modules,
        m.resources,
        m.data,
        m.outputs,
        m.providers,
        m.variables,
      ];
      const usedVars = referencesTo("var", everything);
      const undeclared = [...usedVars].filter((v) => !(v in m.variables));
      assert.deepEqual(undeclared, [], `undeclared variables in ${rel(m.dir)}`);
      const unused = Object.keys(m.variables).filter((v) => !usedVars.has(v));
      assert.deepEqual(unused, [], `declared but unused variables in ${rel(m.dir)}`);
      const undefinedLocals = [...referencesTo("local", everything)].filter((l) =>
        !(l in m.locals)
      );
      assert.deepEqual(undefinedLocals, [], `undefined locals in ${rel(m.dir)}`);
    });
  }
});

Deno.test("terraform: module calls give only inputs the module declares, and all it requires", async (t) => {
  for (const m of modules) {
    for (const [name, call] of Object.entries(m.modules)) {
      await t.step(`${rel(m.dir)} → module.${name}`, async () => {
        const target = await loadModule(new URL(call.source, `file://${m.dir}/`).pathname);
        const given = Object.keys(call).filter((k) => !MODULE_META_ARGS.has(k));
        const unknown = given.filter((k) => !(k in target.variables));
        assert.deepEqual(unknown, [], "inputs the module does not declare");
        const required = Object.entries(target.variables)
          .filter(([, v]) => !("default" in v))
          .map(([k]) => k);
        const missing = required.filter((k) => !given.includes(k));
        assert.deepEqual(missing, [], "required inputs not given");
        const outputsUsed = referencesTo(`module\\.${name}`, [m.outputs, m.resources, m.locals]);
        const noSuchOutput = [...outputsUsed].filter((o) => !(o in target.outputs));
        assert.deepEqual(noSuchOutput, [], "outputs the module does not have");
      });
    }
  }
});

Deno.test("terraform: example tfvars set only declared variables and every required one", async (t) => {
  for (const env of ENVIRONMENTS) {
    await t.step(env, async () => {
      const m = byPath(`environments/${env}`);
      const example = await parseHcl(`${m.dir}/terraform.tfvars.example`);
      const unknown = Object.keys(example).filter((k) => !(k in m.variables));
      assert.deepEqual(unknown, []);
      const required = Object.entries(m.variables).filter(([, v]) => !("default" in v))
        .map(([k]) => k);
      assert.deepEqual(required.filter((k) => !(k in example)), []);
    });
  }
});

Deno.test("terraform: files given to file(), filebase64() and templatefile() exist", async (t) => {
  for (const m of modules) {
    const exprs = [...stringsOf(m)].map((s) => resolvePaths(s, m));
    for (const expr of exprs) {
      for (const [, path] of expr.matchAll(/\b(?:file|filebase64|templatefile)\("([^"]+)"/g)) {
        await t.step(`${rel(m.dir)}: ${path.slice(m.dir.length + 1)}`, async () => {
          assert.ok((await Deno.stat(path)).isFile, `${path} is not a file`);
        });
      }
    }
  }
});

Deno.test("terraform: each template gets exactly the variables it uses", async (t) => {
  const server = byPath("modules/server");
  const calls = [...stringsOf(server)].flatMap((s) => [
    ...resolvePaths(s, server).matchAll(/templatefile\("([^"]+)",\s*local\.(\w+)\)/g),
  ]);
  assert.ok(calls.length >= 2, "cloud-init.yaml and the nginx site are templates");
  for (const [, path, local] of calls) {
    await t.step(new URL(`file://${path}`).pathname.slice(ROOT.length), async () => {
      const template = await Deno.readTextFile(path);
      const given = Object.keys(server.locals[local] ?? {});
      assert.deepEqual([...templatePlaceholders(template)].sort(), given.sort());
    });
  }
});

Deno.test("terraform: the ionoscloud provider is pinned exactly, one version everywhere", () => {
  const constraint = (m: TfModule): string => {
    const provider = m.terraform.flatMap((t: Hcl) => t.required_providers ?? [])
      .map((p: Hcl) => p.ionoscloud).find(Boolean);
    assert.ok(provider, `${rel(m.dir)} declares required_providers.ionoscloud`);
    assert.equal(provider.source, "ionos-cloud/ionoscloud");
    return provider.version;
  };
  const pinned = new Set(ENVIRONMENTS.map((e) => constraint(byPath(`environments/${e}`))));
  assert.equal(pinned.size, 1, `environments pin different versions: ${[...pinned]}`);
  const [version] = pinned;
  assert.match(version, /^\d+\.\d+\.\d+$/, "an exact version");
  // The module states a `~> major.minor` range, which the pinned version must satisfy.
  const [, major, minor] = constraint(byPath("modules/server")).match(/^~> (\d+)\.(\d+)$/) ?? [];
  assert.ok(major, "modules/server states a ~> range");
  const [vMajor, vMinor] = version.split(".").map(Number);
  assert.ok(
    vMajor === Number(major) && vMinor >= Number(minor),
    `${version} is outside ~> ${major}.${minor}`,
  );
});

Deno.test("terraform: the firewall lets in 80 and 443 from anywhere, 22 from the allowed CIDRs, nothing else", async (t) => {
  const server = byPath("modules/server");
  const instance = server.resources.ionoscloud_server?.this;
  assert.ok(instance, "modules/server has ionoscloud_server.this");
  const nic = instance.nic?.[0];
  assert.ok(nic, "the server has an inline nic");
  assert.equal(nic.firewall_active, true);
  assert.equal(nic.firewall_type, "INGRESS");
  const staticRules: Hcl[] = nic.firewall ?? [];
  const dynamicRules: Hcl[] = nic.dynamic?.firewall ?? [];
  const allRules = [...staticRules, ...dynamicRules.map((d) => d.content[0])];

  await t.step("80 and 443 are open to any source", () => {
    for (const port of [80, 443]) {
      const rule = staticRules.find((r) => r.port_range_start === port);
      assert.ok(rule, `a rule for ${port}`);
      assert.equal(rule.port_range_end, port);
      assert.equal(rule.protocol, "TCP");
      assert.equal(rule.source_ip, undefined, `${port} is open to everyone`);
    }
  });

  await t.step("22 is open only to each CIDR of var.ssh_allowed_cidrs", () => {
    assert.equal(
      staticRules.filter((r) => r.port_range_start <= 22 && 22 <= r.port_range_end).length,
      0,
    );
    assert.equal(dynamicRules.length, 1);
    const [ssh] = dynamicRules;
    assert.equal(ssh.for_each, "${var.ssh_allowed_cidrs}");
    const content = ssh.content[0];
    assert.equal(content.port_range_start, 22);
    assert.equal(content.port_range_end, 22);
    assert.equal(content.source_ip, "${firewall.value}");
    assert.ok(server.variables.ssh_allowed_cidrs, "the CIDRs are a module variable");
    assert.equal(
      "default" in server.variables.ssh_allowed_cidrs,
      false,
      "no default: always chosen",
    );
  });

  await t.step("no rule admits the app port or all ports", () => {
    for (const rule of allRules) {
      assert.equal(typeof rule.port_range_start, "number", `${rule.name} names its ports`);
      assert.equal(typeof rule.port_range_end, "number", `${rule.name} names its ports`);
      assert.ok(
        !(rule.port_range_start <= 8000 && 8000 <= rule.port_range_end),
        `${rule.name} opens 8000`,
      );
      assert.equal(rule.type, "INGRESS");
    }
    assert.deepEqual(allRules.map((r) => r.port_range_start).sort((a, b) => a - b), [22, 80, 443]);
  });

  await t.step("user data is the cloud-init template, base64-encoded", () => {
    const userData = instance.volume[0].user_data as string;
    assert.match(
      userData,
      /^\$\{base64encode\(templatefile\(".*\/cloud-init\.yaml", local\.cloud_init_vars\)\)\}$/,
    );
  });
});

const stringsOf = (m: TfModule) => stringsIn([m.locals, m.resources, m.data, m.modules, m.outputs]);
