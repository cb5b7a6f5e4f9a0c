import { runStoreDriverContract } from '@dcr-bridge/conformance';
import { freshSchema, openDriver } from './helpers.js';

runStoreDriverContract('PostgreSQL', async () => openDriver(), {
  // Two drivers are two pools, as two replicas would have: the lock must hold across them.
  openTwo: async () => {
    const schema = freshSchema();
    return [openDriver({ schema }), openDriver({ schema })];
  },
});
