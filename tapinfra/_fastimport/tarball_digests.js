'use strict';
/*
 * Node preload (`node --require`) for the jsii kernel started by tapinfra's fast path: the
 * SHA-256 digests of assembly tarballs, remembered between kernels.
 *
 * jsii finds an assembly's extracted directory in its package cache by the digest of the
 * tarball, read and hashed whole on every load (34 MB for the AWS provider). The kernel's
 * digestFile (patched by tapinfra/_fastimport/kernel_source.py) asks
 * globalThis.__tapinfraTarballDigest first: a digest is reused while the file keeps its
 * identity (device, inode, size, mtime and ctime in nanoseconds: any write changes ctime),
 * else the stock function hashes it and the result is stored. The digest is only the cache
 * key; on a cache miss jsii extracts the tarball and checks it against a fresh hash anyway.
 *
 * It acts only inside a jsii kernel (JSII_AGENT) and only when TAPINFRA_TARBALL_DIGESTS names
 * the file to keep digests in (JSON, written whole to a temporary file, then renamed).
 */
(function installTarballDigests() {
  const file = process.env.TAPINFRA_TARBALL_DIGESTS;
  if (!process.env.JSII_AGENT || !file) {
    return;
  }
  const fs = require('fs');
  const path = require('path');
  let known; // key -> {identity, digest}; read on first use

  function identity(tarball) {
    const st = fs.statSync(tarball, { bigint: true });
    return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
  }

  function load() {
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch (e) {
      return {}; // missing or unreadable: digests are computed as without this preload
    }
  }

  function save() {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify(known));
      fs.renameSync(temporary, file);
    } catch (e) {
      // not kept for the next kernel: the next one hashes again
    }
  }

  globalThis.__tapinfraTarballDigest = function tarballDigest(tarball, extra, compute) {
    let id;
    try {
      id = identity(tarball);
    } catch (e) {
      return compute(); // jsii reports the missing file as it always does
    }
    if (known === undefined) known = load();
    const key = JSON.stringify([path.resolve(tarball), ...extra]);
    const entry = known[key];
    if (entry && entry.identity === id && typeof entry.digest === 'string' && /^[0-9a-f]{64}$/.test(entry.digest)) {
      return Buffer.from(entry.digest, 'hex');
    }
    const digest = compute();
    known[key] = { identity: id, digest: digest.toString('hex') };
    save();
    return digest;
  };
})();
