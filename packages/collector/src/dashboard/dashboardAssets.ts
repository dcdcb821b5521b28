/** The dashboard page as the collector serves it: built once, kept as strings in the bundle. */
export interface DashboardAssets {
  /** The page; it loads `dashboard/app.css?v=<version>` and `dashboard/app.js?v=<version>`. */
  html: string;
  js: string;
  css: string;
  /** Hash of the script and the styles: the `?v=` that lets browsers cache them for good. */
  version: string;
}
