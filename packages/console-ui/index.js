// Where the built console lives (build.mjs writes it): the server serves these files as they are.
export const assetsDir = new URL('./dist/', import.meta.url);
