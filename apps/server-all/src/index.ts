/**
 * The batteries: this package only depends on the server, every adapter and both stores, so that one install
 * brings them all. The server loads the adapter DCR_BRIDGE_ADAPTER names from among them.
 */
export * from '@dcr-bridge/server';
