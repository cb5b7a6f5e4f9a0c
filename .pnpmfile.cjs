// valibot (core's configuration schemas) declares TypeScript as an optional peer, for its types only: the
// bridge never loads it at run time. Left in, pnpm resolves that peer to the workspace's TypeScript and
// `pnpm deploy --prod` (deploy/build-image-dir.sh) ships 23 MB of compiler in every image.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === 'valibot') {
        delete pkg.peerDependencies?.typescript;
        delete pkg.peerDependenciesMeta?.typescript;
      }
      return pkg;
    },
  },
};
