import { describe, expect, it } from "@effect/vitest";
import {
  branchHostname,
  composeLabel,
  deploymentHostname,
  environmentHostname,
  type HostnameContext,
  liveHostname,
  sanitizeLabelPart,
  shortHash,
} from "../../src/rules/hostnames.ts";
import { isDnsLabel } from "../../src/validation/dns-label.ts";

const APEX = "ferry.test";
const context: HostnameContext = { apexDomain: APEX, workspaceSlug: "acme", projectSlug: "web" };
const DEPLOYMENT_ID = "dep_01jdz8x4m3q7r2v5w9y0abcdef";
const OTHER_DEPLOYMENT_ID = "dep_01jdz8x4m3q7r2v5w9y0abcdeg";

/** The single label in front of the apex domain (and a check that there is exactly one). */
const labelOf = (hostname: string, apex = APEX): string => {
  expect(hostname.endsWith(`.${apex}`)).toBe(true);
  const label = hostname.slice(0, -(apex.length + 1));
  expect(label).not.toContain(".");
  return label;
};

const expectDnsLabel = (hostname: string) => {
  const label = labelOf(hostname);
  expect(label.length).toBeLessThanOrEqual(63);
  expect(isDnsLabel(label), label).toBe(true);
};

describe("hostnames of ordinary names", () => {
  it("follow the documented shapes", () => {
    expect(deploymentHostname(context, DEPLOYMENT_ID)).toBe(
      "web-01jdz8x4m3q7r2v5w9y0abcdef.ferry.test",
    );
    expect(branchHostname(context, "main")).toBe("web--git--main--acme.ferry.test");
    expect(environmentHostname(context, "preview")).toBe("web--preview--acme.ferry.test");
    expect(liveHostname(context)).toBe("web--acme.ferry.test");
  });

  it("go under the apex domain they are given", () => {
    const other = { ...context, apexDomain: "apps.example.com" };
    expect(liveHostname(other)).toBe("web--acme.apps.example.com");
    expect(labelOf(environmentHostname(other, "production"), "apps.example.com")).toBe(
      "web--production--acme",
    );
  });
});

describe("deploymentHostname", () => {
  it("contains the deployment id's suffix and never the prefix", () => {
    const hostname = deploymentHostname(context, DEPLOYMENT_ID);
    expect(hostname).toContain("01jdz8x4m3q7r2v5w9y0abcdef");
    expect(hostname).not.toContain("dep_");
    expectDnsLabel(hostname);
  });

  it("is unique per deployment id", () => {
    expect(deploymentHostname(context, DEPLOYMENT_ID)).not.toBe(
      deploymentHostname(context, OTHER_DEPLOYMENT_ID),
    );
  });

  it("cuts a long project slug to fit 63 characters, keeping the whole id", () => {
    const hostname = deploymentHostname({ ...context, projectSlug: "p".repeat(63) }, DEPLOYMENT_ID);
    const label = labelOf(hostname);
    expect(label).toBe(`${"p".repeat(36)}-01jdz8x4m3q7r2v5w9y0abcdef`);
    expect(label).toHaveLength(63);
    expectDnsLabel(hostname);
  });

  it("does not end the cut project part with a dash", () => {
    // The cut after 36 characters lands right after a '-'.
    const projectSlug = `${"a".repeat(35)}-bbbbbbbb`;
    const label = labelOf(deploymentHostname({ ...context, projectSlug }, DEPLOYMENT_ID));
    expect(label).toBe(`${"a".repeat(35)}-01jdz8x4m3q7r2v5w9y0abcdef`);
    expectDnsLabel(`${label}.${APEX}`);
  });

  it("keeps two long-project deployments apart by their ids", () => {
    const long = { ...context, projectSlug: "p".repeat(63) };
    expect(deploymentHostname(long, DEPLOYMENT_ID)).not.toBe(
      deploymentHostname(long, OTHER_DEPLOYMENT_ID),
    );
  });
});

describe("sanitizeLabelPart", () => {
  it.each([
    ["main", "main"],
    ["feature/login", "feature-login"],
    ["Feature/Login_Page", "feature-login-page"],
    ["fix//double..dots", "fix-double-dots"],
    ["--a--b--", "a-b"],
    ["/leading/and/trailing/", "leading-and-trailing"],
    ["fix/ünïcode", "fix-n-code"],
    ["名前", ""],
    ["release-1.2.3", "release-1-2-3"],
    ["dependabot/npm_and_yarn/effect-3.22.4", "dependabot-npm-and-yarn-effect-3-22-4"],
  ])("%s → %s", (input, expected) => {
    expect(sanitizeLabelPart(input)).toBe(expected);
  });
});

describe("branchHostname", () => {
  it.each([
    ["feature/login", "web--git--feature-login--acme"],
    ["Feature/Login", "web--git--feature-login--acme"],
    ["user/JIRA-123_fix", "web--git--user-jira-123-fix--acme"],
    ["fix/ünïcode", "web--git--fix-n-code--acme"],
  ])("sanitizes %s into a DNS label", (branch, label) => {
    const hostname = branchHostname(context, branch);
    expect(labelOf(hostname)).toBe(label);
    expectDnsLabel(hostname);
  });

  it("names a branch with nothing left after sanitizing by a hash of it", () => {
    const first = branchHostname(context, "修正");
    const second = branchHostname(context, "功能");
    expect(labelOf(first)).toBe(`web--git--${shortHash("修正")}--acme`);
    expect(first).not.toBe(second);
    expectDnsLabel(first);
    expectDnsLabel(second);
  });

  it("keeps every label valid for very long branch names", () => {
    for (const branch of [
      "b".repeat(300),
      `feature/${"x".repeat(200)}`,
      `${"a/".repeat(100)}end`,
      "🚀".repeat(100),
    ]) {
      expectDnsLabel(branchHostname(context, branch));
    }
  });
});

describe("composeLabel", () => {
  it("joins sanitized parts with '--'", () => {
    expect(composeLabel(["Web", "GIT", "feat/x", "acme"])).toBe("web--git--feat-x--acme");
  });

  it("keeps a label of exactly 63 characters whole", () => {
    const label = composeLabel(["a".repeat(31), "b".repeat(30)]);
    expect(label).toBe(`${"a".repeat(31)}--${"b".repeat(30)}`);
    expect(label).toHaveLength(63);
  });

  it("cuts a 64-character label and appends a 6-character hash of the full label", () => {
    const full = `${"a".repeat(31)}--${"b".repeat(31)}`;
    const label = composeLabel(["a".repeat(31), "b".repeat(31)]);
    expect(label).toBe(`${"a".repeat(31)}--${"b".repeat(23)}-${shortHash(full)}`);
    expect(label).toHaveLength(63);
    expect(isDnsLabel(label)).toBe(true);
  });

  it("does not leave dashes before the hash when the cut lands on a separator", () => {
    // The first 56 characters end with the "--" separator.
    const label = composeLabel(["a".repeat(54), "b".repeat(20)]);
    expect(label).toBe(`${"a".repeat(54)}-${shortHash(`${"a".repeat(54)}--${"b".repeat(20)}`)}`);
    expect(isDnsLabel(label)).toBe(true);
  });

  it("is stable: the same long name gives the same label", () => {
    const parts = ["p".repeat(63), "production", "w".repeat(63)];
    expect(composeLabel(parts)).toBe(composeLabel([...parts]));
  });

  it("keeps long names that differ only past the cut apart", () => {
    const labels = new Set<string>();
    for (let i = 0; i < 200; i++) labels.add(composeLabel(["p".repeat(60), `tail-${i}`]));
    expect(labels.size).toBe(200);
    for (const label of labels) {
      expect(label.startsWith("p".repeat(56))).toBe(true);
      expect(isDnsLabel(label)).toBe(true);
    }
  });
});

describe("shortHash", () => {
  it("is 6 lowercase base-36 characters and deterministic", () => {
    for (const value of ["", "a", "web--git--main--acme", "🚀".repeat(10), "x".repeat(1000)]) {
      const hash = shortHash(value);
      expect(hash).toMatch(/^[0-9a-z]{6}$/);
      expect(shortHash(value)).toBe(hash);
    }
  });

  it("tells close inputs apart", () => {
    expect(shortHash("a")).not.toBe(shortHash("b"));
    expect(shortHash("ab")).not.toBe(shortHash("ba"));
  });
});

describe("every label fits in a DNS label for long names", () => {
  const long: HostnameContext = {
    apexDomain: APEX,
    workspaceSlug: "w".repeat(63),
    projectSlug: "p".repeat(63),
  };
  const dashed: HostnameContext = {
    apexDomain: APEX,
    workspaceSlug: "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z-0-1-2-3-4-5",
    projectSlug: "z-y-x-w-v-u-t-s-r-q-p-o-n-m-l-k-j-i-h-g-f-e-d-c-b-a-9-8-7-6-5-4",
  };

  it.each([
    ["long", long],
    ["dashed", dashed],
  ])("for %s slugs", (_label, ctx) => {
    expectDnsLabel(liveHostname(ctx));
    expectDnsLabel(environmentHostname(ctx, "e".repeat(63)));
    expectDnsLabel(environmentHostname(ctx, "production"));
    expectDnsLabel(branchHostname(ctx, "feature/".repeat(40)));
    expectDnsLabel(deploymentHostname(ctx, DEPLOYMENT_ID));
  });

  it("and distinct long names stay distinct", () => {
    const other = { ...long, workspaceSlug: `${"w".repeat(62)}x` };
    expect(liveHostname(long)).not.toBe(liveHostname(other));
    expect(environmentHostname(long, "production")).not.toBe(
      environmentHostname(other, "production"),
    );
    expect(environmentHostname(long, "production")).not.toBe(environmentHostname(long, "preview"));
    expect(branchHostname(long, `${"b".repeat(100)}1`)).not.toBe(
      branchHostname(long, `${"b".repeat(100)}2`),
    );
  });
});

describe("the kinds never collide", () => {
  it("project a-preview's live hostname is not project a's preview environment", () => {
    const live = liveHostname({ ...context, projectSlug: "a-preview" });
    const preview = environmentHostname({ ...context, projectSlug: "a" }, "preview");
    expect(live).toBe("a-preview--acme.ferry.test");
    expect(preview).toBe("a--preview--acme.ferry.test");
    expect(live).not.toBe(preview);
  });

  it("an environment named git is not a branch", () => {
    const environment = environmentHostname(context, "git");
    expect(environment).toBe("web--git--acme.ferry.test");
    for (const branch of ["acme", "main", "修正", "---", ""]) {
      expect(branchHostname(context, branch)).not.toBe(environment);
    }
  });

  it("a workspace's live hostname is not another workspace's environment", () => {
    // project "web", workspace "x-y" (live) vs project "web", environment "x", workspace "y".
    expect(liveHostname({ ...context, workspaceSlug: "x-y" })).not.toBe(
      environmentHostname({ ...context, workspaceSlug: "y" }, "x"),
    );
  });

  it("a deployment's hostname is never a live, environment or branch hostname", () => {
    // The deployment label has one part (no "--"); the others have 2, 3 and 4.
    const projectSlug = "web";
    const deployment = labelOf(deploymentHostname({ ...context, projectSlug }, DEPLOYMENT_ID));
    expect(deployment).not.toContain("--");
    expect(labelOf(liveHostname(context)).split("--")).toHaveLength(2);
    expect(labelOf(environmentHostname(context, "preview")).split("--")).toHaveLength(3);
    expect(labelOf(branchHostname(context, "main")).split("--")).toHaveLength(4);
  });

  it("produces distinct hostnames for every kind of one project", () => {
    const all = [
      deploymentHostname(context, DEPLOYMENT_ID),
      branchHostname(context, "production"),
      branchHostname(context, "preview"),
      environmentHostname(context, "production"),
      environmentHostname(context, "preview"),
      liveHostname(context),
    ];
    expect(new Set(all).size).toBe(all.length);
  });
});
