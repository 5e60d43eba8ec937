'use strict';
/*
 * Node preload (`node --require`) for the jsii kernel started by tapinfra's fast import path.
 *
 * The kernel `require`s the main module of every assembly it loads. For the prebuilt
 * cdktf providers that is `lib/index.js`, a generated file of the form
 *
 *     "use strict";
 *     Object.defineProperty(exports, "__esModule", { value: true });
 *     exports.a = exports.b = ... = void 0;
 *     exports.a = require("./a");
 *     exports.b = require("./b");
 *     //# sourceMappingURL=...
 *
 * which loads every submodule (~2,135 of them for the aws provider, ~250 MB of JS) up
 * front. This preload compiles such an index as an equivalent lazy one instead: each
 * export becomes a getter that `require`s its submodule on first access (with the same
 * `require`, so resolution is unchanged) and then turns into the plain data property the
 * stock index would have set, in the same key order. The kernel only ever looks symbols up
 * by name (`closure.s3Bucket.S3Bucket`), and the submodules have no side effects beyond
 * defining their own exports, so the kernel behaves exactly as with the stock index.
 *
 * It acts only inside a jsii kernel (JSII_AGENT is set by the jsii host), only on the
 * `lib/index.js` of the packages named below, and only when the file consists of nothing
 * but the lines above. Anything else is loaded the stock way, with a warning on stderr
 * for a listed package. Set TAPINFRA_FASTIMPORT_DEBUG=1 to log what it does.
 */
(function installLazyIndex() {
  if (!process.env.JSII_AGENT) {
    return; // not a jsii kernel: do nothing at all
  }
  let Module;
  let fs;
  let path;
  try {
    Module = require('module');
    fs = require('fs');
    path = require('path');
  } catch (e) {
    return;
  }

  const TARGETS = new Set(['@cdktf/provider-aws', '@cdktf/provider-archive']);
  const DEBUG = process.env.TAPINFRA_FASTIMPORT_DEBUG === '1';
  const PREFIX = 'tapinfra fast import (node):';

  function warn(message) {
    try {
      process.stderr.write(`${PREFIX} ${message}\n`);
    } catch (e) {
      // nothing sensible left to do
    }
  }

  const RE_STRICT = /^"use strict";$/;
  const RE_ESMODULE = /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/;
  const RE_PREAMBLE = /^exports\.[A-Za-z_$][\w$]*( = exports\.[A-Za-z_$][\w$]*)* = void 0;$/;
  const RE_PREAMBLE_NAME = /exports\.([A-Za-z_$][\w$]*)/g;
  const RE_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[A-Za-z0-9_.\-]+)"\);$/;

  /** Parse a generated re-export index; return null if it is anything else. */
  function parseIndex(source) {
    const preamble = [];
    const exported = [];
    const seen = new Set();
    let esModule = false;
    let inBlockComment = false;
    const lines = source.split(/\r?\n/);
    for (const line of lines) {
      if (inBlockComment) {
        if (line.includes('*/')) {
          if (!/\*\/\s*$/.test(line)) return null;
          inBlockComment = false;
        }
        continue;
      }
      if (line.trim() === '' || RE_STRICT.test(line)) continue;
      if (line.startsWith('/*')) {
        if (!line.includes('*/')) inBlockComment = true;
        else if (!/\*\/\s*$/.test(line)) return null;
        continue;
      }
      if (line.startsWith('//')) continue;
      if (RE_ESMODULE.test(line)) {
        if (esModule || exported.length > 0) return null;
        esModule = true;
        continue;
      }
      if (RE_PREAMBLE.test(line)) {
        if (exported.length > 0) return null;
        // `exports.a = exports.b = void 0` assigns right to left: b is created first.
        const names = Array.from(line.matchAll(RE_PREAMBLE_NAME), (m) => m[1]);
        preamble.push(...names.reverse());
        continue;
      }
      const m = RE_EXPORT.exec(line);
      if (m) {
        const [, name, request] = m;
        if (seen.has(name) || request.includes('..') || name === '__esModule' || name === '__proto__') return null;
        seen.add(name);
        exported.push({ name, request });
        continue;
      }
      return null; // an unexpected statement
    }
    if (inBlockComment || !esModule || exported.length === 0) return null;
    // Every `void 0` name must be assigned later, once (the generated form).
    if (new Set(preamble).size !== preamble.length) return null;
    for (const name of preamble) if (!seen.has(name)) return null;
    return { preamble, exported };
  }

  /** Which listed package does this `lib/index.js` belong to (and is it its main)? */
  function targetPackage(filename) {
    if (path.basename(filename) !== 'index.js') return null;
    const libDir = path.dirname(filename);
    if (path.basename(libDir) !== 'lib') return null;
    const pkgDir = path.dirname(libDir);
    let pkg;
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    } catch (e) {
      return null; // not a package root
    }
    if (!pkg || !TARGETS.has(pkg.name)) return null;
    const main = path.resolve(pkgDir, pkg.main || 'index.js');
    if (main !== path.resolve(filename) && main !== path.resolve(libDir, 'index')) {
      warn(`${pkg.name}: main is ${pkg.main}, not lib/index.js; loading the stock index`);
      return null;
    }
    return { name: pkg.name, version: pkg.version };
  }

  function defineLazy(module, exportsObj, name, request, counter) {
    Object.defineProperty(exportsObj, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = module.require(request);
        counter.loaded += 1;
        Object.defineProperty(exportsObj, name, { value, writable: true, enumerable: true, configurable: true });
        return value;
      },
      set(value) {
        Object.defineProperty(exportsObj, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }

  function compileLazy(module, filename, target) {
    const source = fs.readFileSync(filename, 'utf8');
    const parsed = parseIndex(source);
    if (parsed === null) {
      warn(`${target.name}@${target.version}: lib/index.js is not the expected generated re-export index; loading it the stock way`);
      return false;
    }
    const exportsObj = module.exports;
    Object.defineProperty(exportsObj, '__esModule', { value: true });
    const requests = new Map(parsed.exported.map((e) => [e.name, e.request]));
    const counter = { loaded: 0 };
    // Same key order as the stock index: the `void 0` preamble first, then the rest.
    const order = [...parsed.preamble];
    const inPreamble = new Set(parsed.preamble);
    for (const e of parsed.exported) if (!inPreamble.has(e.name)) order.push(e.name);
    for (const name of order) defineLazy(module, exportsObj, name, requests.get(name), counter);
    if (DEBUG) {
      warn(`lazy index for ${target.name}@${target.version}: ${order.length} submodules`);
      process.on('exit', () => warn(`${target.name}: ${counter.loaded} of ${order.length} submodules loaded`));
    }
    return true;
  }

  const extensions = Module._extensions;
  const stockJs = extensions && extensions['.js'];
  if (typeof stockJs !== 'function') {
    warn('Module._extensions[".js"] is not available; provider indexes load the stock way');
    return;
  }
  extensions['.js'] = function tapinfraLazyIndexJs(module, filename) {
    let target = null;
    try {
      target = targetPackage(filename);
      if (target !== null && compileLazy(module, filename, target)) {
        return undefined;
      }
    } catch (e) {
      if (target !== null) {
        warn(`${target.name}: lazy index failed (${e && e.message}); loading it the stock way`);
        // Start from a clean exports object for the stock load.
        module.exports = {};
      }
    }
    return stockJs.call(this, module, filename);
  };
})();
