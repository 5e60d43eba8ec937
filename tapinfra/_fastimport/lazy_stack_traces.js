'use strict';
/*
 * Node preload (`node --require`) for the jsii kernel started by tapinfra's fast path:
 * cdktf's token creation stacks are formatted when they are read, not when they are taken.
 *
 * Every cdktf token and complex attribute (an S3 bucket makes a dozen) records where it
 * was created: `creationStack = captureStackTrace()` (cdktf/lib/tokens/private/
 * stack-trace.js) takes the whole stack and formats it into strings right away. Those
 * strings are read only to explain an error ("Object creation stack: ..."), and formatting
 * them is most of the cost. Here `captureStackTrace` still takes the stack at the same
 * point (`Error.captureStackTrace`, same frames, same limit), but returns an array that
 * fills itself with exactly the strings cdktf would have made the first time anything
 * looks at it (length, join, index, iteration, JSON).
 *
 * It acts only inside a jsii kernel (JSII_AGENT) and only on that file of the package
 * named "cdktf", and only if its export is the function it expects. Set
 * TAPINFRA_FASTIMPORT_DEBUG=1 to log what it does.
 */
(function installLazyStackTraces() {
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
  const FILE = ['lib', 'tokens', 'private', 'stack-trace.js'];

  function isCdktfStackTrace(filename) {
    const parts = filename.split(path.sep);
    if (parts.slice(-FILE.length).join('/') !== FILE.join('/')) return false;
    const root = parts.slice(0, parts.length - FILE.length).join(path.sep);
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name === 'cdktf';
    } catch (e) {
      return false;
    }
  }

  /** cdktf's captureStackTrace, with the formatting deferred to the first read. */
  function lazyCaptureStackTrace(below) {
    below = below || lazyCaptureStackTrace;
    const holder = {};
    const previousLimit = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = Number.MAX_SAFE_INTEGER;
      Error.captureStackTrace(holder, below);
    } finally {
      Error.stackTraceLimit = previousLimit;
    }
    const lines = [];
    let filled = false;
    function fill() {
      if (filled) return;
      filled = true;
      const stack = holder.stack; // V8 formats the captured frames here
      if (stack) {
        for (const line of stack.split('\n').slice(1)) lines.push(line.replace(/^\s*at\s+/, ''));
      }
    }
    return new Proxy(lines, {
      get: (target, property, receiver) => (fill(), Reflect.get(target, property, receiver)),
      has: (target, property) => (fill(), Reflect.has(target, property)),
      ownKeys: (target) => (fill(), Reflect.ownKeys(target)),
      getOwnPropertyDescriptor: (target, property) => (fill(), Reflect.getOwnPropertyDescriptor(target, property)),
      set: (target, property, value, receiver) => (fill(), Reflect.set(target, property, value, receiver)),
      deleteProperty: (target, property) => (fill(), Reflect.deleteProperty(target, property)),
      defineProperty: (target, property, descriptor) => (fill(), Reflect.defineProperty(target, property, descriptor)),
    });
  }

  const stockLoad = Module._load;
  if (typeof stockLoad !== 'function') {
    return;
  }
  Module._load = function tapinfraLazyStackTraces(request, parent, isMain) {
    const exported = stockLoad.apply(this, arguments);
    if (typeof request === 'string' && request.endsWith('stack-trace') && exported
        && typeof exported.captureStackTrace === 'function' && exported.captureStackTrace.length === 1) {
      let filename = null;
      try {
        filename = Module._resolveFilename(request, parent, isMain);
      } catch (e) {
        filename = null;
      }
      if (filename !== null && isCdktfStackTrace(filename)) {
        exported.captureStackTrace = lazyCaptureStackTrace;
        if (Module._load === tapinfraLazyStackTraces) {
          Module._load = stockLoad; // done: no frame of ours in later stacks
        }
        if (DEBUG) process.stderr.write(`${PREFIX} lazy stack traces for ${filename}\n`);
      }
    }
    return exported;
  };
})();
