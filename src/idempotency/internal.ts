/**
 * Thrown by the HTTP middleware's operation when the response must not be stored (a 5xx): the
 * key is released whatever `storeErrors` says, and the middleware swallows it (the response
 * already went out). Not exported from the package.
 *
 * @internal
 */
export class ReleaseWithoutStoring extends Error {
  constructor() {
    super('headroom: response not stored');
    this.name = 'ReleaseWithoutStoring';
  }
}
