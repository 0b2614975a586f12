/**
 * The license texts of the third-party packages a bundle inlines (Apache-2.0, MIT and ISC all
 * ask that their notice travel with copies of the code): read from each package's own LICENSE
 * file, found through esbuild's metafile.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Metafile } from "esbuild";

// The package a bundled file belongs to: the last `node_modules/<name>` or `node_modules/@scope/name`.
const PACKAGE_ROOT = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//;

const licenseText = (root: string): string | undefined => {
  const file = readdirSync(root).find((name) => /^(licen[sc]e|copying)(\.|$)/i.test(name));
  return file === undefined ? undefined : readFileSync(path.join(root, file), "utf8").trim();
};

/** One text: for each inlined package, its name, version, license and license file. */
export const thirdPartyNotices = (metafile: Metafile, cwd: string): string => {
  const roots = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const root = PACKAGE_ROOT.exec(path.resolve(cwd, input).split(path.sep).join("/"))?.[1];
    if (root !== undefined) roots.add(root);
  }
  const sections = [...roots].map((root) => {
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    const heading = `${manifest.name}@${manifest.version}: ${manifest.license ?? "see below"}`;
    return `${heading}\n${"=".repeat(heading.length)}\n\n${licenseText(root) ?? "No license file in the package."}\n`;
  });
  return [
    "The ferry bundle (dist/ferry.mjs) contains code of these packages.",
    ...sections.sort(),
  ].join("\n\n");
};
