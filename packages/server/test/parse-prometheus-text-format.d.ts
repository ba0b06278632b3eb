/** Types for parse-prometheus-text-format (it ships none): the metric families of a scrape. */
declare module 'parse-prometheus-text-format' {
  export interface PrometheusMetric {
    readonly labels?: Record<string, string>;
    /** Counters and gauges. */
    readonly value?: string;
    /** Histograms and summaries. */
    readonly count?: string;
    readonly sum?: string;
    readonly buckets?: Record<string, string>;
  }
  export interface PrometheusFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly PrometheusMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
