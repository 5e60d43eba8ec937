'use strict';
/*
 * Node preload (`node --require`) for the jsii kernel started by tapinfra's fast path: a V8
 * code cache for the ~10 MB of JavaScript a synth loads (program.js, cdktf, the provider
 * submodules), so that later kernels skip most of parsing and compiling it.
 *
 * Node >= 22.1 has this built in (`module.enableCompileCache`): it is used when present.
 * On Node 20, CommonJS modules are compiled here the way Node compiles them (the same
 * wrapper, `vm.Script`, the same five arguments) with the cached data of an earlier
 * kernel; at exit, the code V8 produced for each module compiled without a usable cache
 * (functions compiled lazily while the synth ran included) is written for the next one.
 * Entries are keyed by the SHA-1 of the source, and V8 refuses data made from another
 * source, V8 version or flags: a stale entry is recompiled and rewritten, never used.
 *
 * It acts only inside a jsii kernel (JSII_AGENT), only when TAPINFRA_NODE_COMPILE_CACHE
 * names the cache directory, only on Node 20, and only on modules in node_modules and on
 * jsii's lib/program.js (not on sources with a dynamic `import(`, which are compiled the
 * stock way). Set TAPINFRA_FASTIMPORT_DEBUG=1 to log what it does.
 */
(function installCompileCache() {
  const dir = process.env.TAPINFRA_NODE_COMPILE_CACHE;
  if (!process.env.JSII_AGENT || !dir) {
    return;
  }
  const PREFIX = 'tapinfra fast import (node):';
  const DEBUG = process.env.TAPINFRA_FASTIMPORT_DEBUG === '1';
  let Module;
  let fs;
  let path;
  let vm;
  let crypto;
  try {
    Module = require('module');
    fs = require('fs');
    path = require('path');
    vm = require('vm');
    crypto = require('crypto');
  } catch (e) {
    return;
  }
  function warn(message) {
    try {
      process.stderr.write(`${PREFIX} ${message}\n`);
    } catch (e) {
      // nothing sensible left to do
    }
  }

  if (typeof Module.enableCompileCache === 'function') {
    try {
      Module.enableCompileCache(dir);
      if (DEBUG) warn(`compile cache: node's own, in ${dir}`);
    } catch (e) {
      warn(`compile cache not enabled (${e && e.message})`);
    }
    return;
  }
  if (process.versions.node.split('.')[0] !== '20') {
    return; // compiled the stock way: this copy of Node's CommonJS compile is Node 20's
  }
  const stockCompile = Module.prototype._compile;
  if (typeof stockCompile !== 'function' || typeof Module.wrap !== 'function' || !vm.constants) {
    return;
  }
  const cacheDir = path.join(dir, `node-${process.versions.node}-v8-${process.versions.v8}-${process.arch}`);
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
  } catch (e) {
    // No cache (a read-only home, say): compiled the stock way, as Node does without one.
    if (DEBUG) warn(`compile cache directory ${cacheDir} not usable (${e && e.message})`);
    return;
  }

  const SEP = path.sep;
  function cached(filename) {
    return filename.includes(`${SEP}node_modules${SEP}`) || filename.endsWith(`${SEP}lib${SEP}program.js`);
  }

  // Node's require for a module, as Node 20's makeRequireFunction builds it.
  function makeRequire(mod) {
    function require(id) {
      return mod.require(id);
    }
    function resolve(request, options) {
      return Module._resolveFilename(request, mod, false, options);
    }
    resolve.paths = function paths(request) {
      return Module._resolveLookupPaths(request, mod);
    };
    require.resolve = resolve;
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
  }

  const toWrite = [];
  const counts = { hit: 0, miss: 0, rejected: 0 };

  Module.prototype._compile = function tapinfraCachedCompile(content, filename, format) {
    if (format === 'module' || typeof content !== 'string' || !cached(filename) || content.includes('import(')) {
      return stockCompile.call(this, content, filename, format);
    }
    const key = crypto.createHash('sha1').update(content).digest('hex');
    const entry = path.join(cacheDir, `${key}.bin`);
    let data;
    try {
      data = fs.readFileSync(entry);
    } catch (e) {
      data = undefined;
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData: data,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (data === undefined) {
      counts.miss += 1;
      toWrite.push([entry, script]);
    } else if (script.cachedDataRejected) {
      counts.rejected += 1;
      toWrite.push([entry, script]);
    } else {
      counts.hit += 1;
    }
    const compiledWrapper = script.runInThisContext({ displayErrors: true });
    const dirname = path.dirname(filename);
    return Reflect.apply(compiledWrapper, this.exports, [this.exports, makeRequire(this), this, filename, dirname]);
  };

  process.on('exit', () => {
    for (const [entry, script] of toWrite) {
      const temporary = `${entry}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(temporary, script.createCachedData());
        fs.renameSync(temporary, entry); // atomic: kernels running side by side never read half an entry
      } catch (e) {
        try {
          fs.unlinkSync(temporary);
        } catch (ignored) {
          // it was never written
        }
      }
    }
    if (DEBUG) {
      warn(`compile cache: ${counts.hit} hits, ${counts.miss} misses, ${counts.rejected} rejected, ${toWrite.length} written`);
    }
  });
})();
