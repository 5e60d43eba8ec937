'use strict';
/*
 * Node preload (`node --require`) for the jsii kernel started by tapinfra's fast path:
 * two dependencies cdktf requires when it loads but uses only for features a synth may not
 * touch are loaded on first use instead.
 *
 *   cdktf/lib/private/fs.js                       require("archiver")  zips a directory asset
 *   cdktf/lib/validations/validate-binary-version require("semver")    checks a binary's version
 *
 * archiver and its dependencies are most of what loading cdktf costs (~60 % of its JS). The
 * module gets a stand-in that loads the real dependency, with the same `require` and from
 * the same place, the first time it is called, constructed or has a property read; from
 * then on everything is forwarded to it. Nothing else changes: any other module requiring
 * them gets them as usual.
 *
 * It acts only inside a jsii kernel (JSII_AGENT) and only on those two requests from those
 * two files of the package named "cdktf". Set TAPINFRA_FASTIMPORT_DEBUG=1 to log what it
 * does.
 */
(function installLazyRequires() {
  if (!process.env.JSII_AGENT) {
    return;
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
  const DEBUG = process.env.TAPINFRA_FASTIMPORT_DEBUG === '1';
  const PREFIX = 'tapinfra fast import (node):';
  const LAZY = [
    { package: 'cdktf', file: ['lib', 'private', 'fs.js'], request: 'archiver' },
    { package: 'cdktf', file: ['lib', 'validations', 'validate-binary-version.js'], request: 'semver' },
  ];

  const packageNames = new Map(); // package root -> name
  function packageName(root) {
    if (!packageNames.has(root)) {
      let name = null;
      try {
        name = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name;
      } catch (e) {
        name = null;
      }
      packageNames.set(root, name);
    }
    return packageNames.get(root);
  }

  const REQUESTS = new Set(LAZY.map((lazy) => lazy.request));

  function isLazy(request, parent) {
    if (!REQUESTS.has(request)) return false;
    const filename = parent && parent.filename;
    if (typeof filename !== 'string') return false;
    for (const lazy of LAZY) {
      if (request !== lazy.request) continue;
      const parts = filename.split(path.sep);
      const tail = parts.slice(-lazy.file.length);
      if (tail.join('/') !== lazy.file.join('/')) continue;
      const root = parts.slice(0, parts.length - lazy.file.length).join(path.sep);
      if (packageName(root) === lazy.package) return true;
    }
    return false;
  }

  /** A stand-in for a module that is loaded when first used. */
  function standIn(request, load) {
    let loaded = false;
    let real;
    function get() {
      if (!loaded) {
        real = load();
        loaded = true;
        if (DEBUG) process.stderr.write(`${PREFIX} lazy require: ${request} loaded on first use\n`);
      }
      return real;
    }
    // A plain function as the target: callable and constructible, like archiver itself.
    return new Proxy(function lazyModule() {}, {
      apply: (target, thisArg, args) => Reflect.apply(get(), thisArg, args),
      construct: (target, args) => Reflect.construct(get(), args),
      get: (target, property) => Reflect.get(get(), property),
      set: (target, property, value) => Reflect.set(get(), property, value),
      has: (target, property) => Reflect.has(get(), property),
    });
  }

  const stockLoad = Module._load;
  if (typeof stockLoad !== 'function') {
    return;
  }
  let pending = LAZY.length;
  Module._load = function tapinfraLazyRequire(request, parent, isMain) {
    if (!isMain && isLazy(request, parent)) {
      const self = this;
      pending -= 1;
      if (pending === 0 && Module._load === tapinfraLazyRequire) {
        Module._load = stockLoad; // done: no frame of ours in later stacks
      }
      return standIn(request, () => stockLoad.call(self, request, parent, isMain));
    }
    return stockLoad.apply(this, arguments);
  };
})();
