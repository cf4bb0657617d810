// Shared pieces of the Vigil dashboards: the Prometheus datasource they all query, the cross-dashboard links,
// template variables and panel defaults, so each dashboard module only says what it shows.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  type Panel,
  QueryVariableBuilder,
  type RowPanel,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The Prometheus datasource every panel, variable and annotation queries (provisioned with this uid). */
export const VIGIL_DATASOURCE = {
  type: 'prometheus',
  uid: 'vigil-prometheus',
} as const satisfies common.DataSourceRef;

/** The tag every Vigil dashboard carries; the cross-dashboard links select dashboards by it. */
export const VIGIL_TAG = 'vigil';

/** Value a multi-select variable takes for "All": a regex matching every label value, even absent ones. */
const ALL_VALUES = '.*';

/** Threshold steps as [color, from]; the first step starts at -Infinity (null). */
export type Steps = readonly (readonly [color: string, from: number | null])[];

/** What every panel says about itself; `width` and `height` are grid units (24 columns wide). */
export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: prometheus.DataqueryBuilder[];
  width?: number;
  height?: number;
}

/** A PromQL query on the Vigil datasource; the legend defaults to Grafana's automatic one. */
export function promQuery(expr: string, legendFormat = '__auto'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(VIGIL_DATASOURCE)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(expr)
    .legendFormat(legendFormat)
    .range();
}

/** An instant query returned as a table, for tables and bar gauges that show one value per series. */
export function instantQuery(expr: string, legendFormat = '__auto'): prometheus.DataqueryBuilder {
  return promQuery(expr, legendFormat).instant().format(prometheus.PromQueryFormat.Table);
}

/**
 * A multi-select variable listing the values of `label` on the series `selector` picks, with "All" as `.*`
 * so that series lacking the label still match.
 */
export function labelVariable(
  name: string,
  label: string,
  description: string,
  selector: string,
  labelName: string = name,
): QueryVariableBuilder {
  const query = `label_values(${selector}, ${labelName})`;
  return new QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(VIGIL_DATASOURCE)
    .query(query)
    .definition(query)
    .multi(true)
    .includeAll(true)
    .allValue(ALL_VALUES)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc);
}

/** An annotation drawn from a PromQL expression: one event per step where it returns a series. */
export function promAnnotation(
  name: string,
  expr: string,
  options: { color: string; title: string; text: string; tagKeys: string },
): AnnotationQueryBuilder {
  return new AnnotationQueryBuilder()
    .name(name)
    .datasource(VIGIL_DATASOURCE)
    .enable(true)
    .iconColor(options.color)
    .expr(expr)
    .target(promQuery(expr).refId('Anno'))
    .step('1m')
    .titleFormat(options.title)
    .textFormat(options.text)
    .tagKeys(options.tagKeys)
    .useValueForTime(false);
}

/** The skeleton every Vigil dashboard starts from: uid, tag, time range, refresh and links to the others. */
export function vigilDashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([VIGIL_TAG])
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(
      new DashboardLinkBuilder('Vigil dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags([VIGIL_TAG])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true)
        .targetBlank(false)
        .tooltip('Other Vigil dashboards, same time range and variables'),
    );
}

/**
 * Builds the dashboard and numbers its panels. The SDK files links and annotation toggles under the controls
 * menu by default; dropping that keeps them in the dashboard header where every Grafana version shows them.
 */
export function buildDashboard(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let id = 0;
  for (const panel of allPanels(dashboard)) {
    id += 1;
    panel.id = id;
  }
  for (const link of dashboard.links ?? []) delete link.placement;
  for (const annotation of dashboard.annotations.list ?? []) delete annotation.placement;
  return dashboard;
}

/** Every panel of a dashboard in order, rows included, with the panels of collapsed rows. */
export function allPanels(dashboard: Dashboard): (Panel | RowPanel)[] {
  return (dashboard.panels ?? []).flatMap((panel) =>
    panel.type === 'row' && 'panels' in panel ? [panel, ...(panel as RowPanel).panels] : [panel],
  );
}

/** Absolute thresholds from [color, from] steps. */
function thresholds(steps: Steps): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(steps.map(([color, value]) => ({ color, value })));
}

const NEUTRAL: Steps = [['green', null]];

function refIds(queries: prometheus.DataqueryBuilder[]): prometheus.DataqueryBuilder[] {
  return queries.map((query, index) => query.refId(String.fromCharCode(65 + index)));
}

/** What every panel builder of the SDK has: its title, text, queries, unit and place on the grid. */
interface PanelBasics<T> {
  title(title: string): T;
  description(description: string): T;
  datasource(ref: typeof VIGIL_DATASOURCE): T;
  targets(targets: prometheus.DataqueryBuilder[]): T;
  unit(unit: string): T;
  span(width: number): T;
  height(height: number): T;
}

/** A panel's title, description, queries (on the Vigil Prometheus) and unit, sized by `spec` or the defaults. */
function placed<T extends PanelBasics<T>>(panel: T, spec: PanelSpec, width: number, height: number): T {
  return panel
    .title(spec.title)
    .description(spec.description)
    .datasource(VIGIL_DATASOURCE)
    .targets(refIds(spec.queries))
    .unit(spec.unit)
    .span(spec.width ?? width)
    .height(spec.height ?? height);
}

/** A time series panel with a visible legend (last, max) and a shared tooltip sorted by value. */
export function timeSeriesPanel(
  spec: PanelSpec & { stacked?: boolean; steps?: Steps; min?: number; max?: number },
): timeseries.PanelBuilder {
  const panel = placed(new timeseries.PanelBuilder(), spec, 12, 8)
    .lineWidth(1)
    .fillOpacity(spec.stacked ? 40 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .thresholds(thresholds(spec.steps ?? NEUTRAL));
  if (spec.stacked) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (spec.steps) {
    panel.thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
    );
  }
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  return panel;
}

/** A single-value panel (last value, with a sparkline) colored by `steps`. */
export function statPanel(spec: PanelSpec & { steps?: Steps }): stat.PanelBuilder {
  return placed(new stat.PanelBuilder(), spec, 6, 4)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .noValue('0')
    .thresholds(thresholds(spec.steps ?? NEUTRAL));
}

/** Horizontal bars, one per series of an instant query, sorted as the query returns them. */
export function barGaugePanel(spec: PanelSpec & { steps?: Steps }): bargauge.PanelBuilder {
  return placed(new bargauge.PanelBuilder(), spec, 12, 8)
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(spec.steps ?? NEUTRAL));
}

/** A table of instant queries merged on their labels; `columns` names each query's value column in order. */
export function tablePanel(
  spec: PanelSpec & { columns: { name: string; unit: string }[] },
): table.PanelBuilder {
  const panel = placed(new table.PanelBuilder(), spec, 24, 8)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: { excludeByName: { Time: true }, indexByName: {}, renameByName: {} },
    })
    .thresholds(thresholds(NEUTRAL));
  const single = spec.queries.length === 1;
  spec.columns.forEach((column, index) => {
    const field = single ? 'Value' : `Value #${String.fromCharCode(65 + index)}`;
    panel.overrideByName(field, [
      { id: 'displayName', value: column.name },
      { id: 'unit', value: column.unit },
    ]);
  });
  return panel;
}
