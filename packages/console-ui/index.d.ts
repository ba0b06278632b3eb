/** The folder of the built console: index.html, app.js, app.css. */
export declare const assetsDir: URL;
