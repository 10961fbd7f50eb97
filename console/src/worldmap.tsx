// A world map drawn from Natural Earth 110m (world-atlas, public domain), shaded by count per
// country. Loaded lazily so the overview's first paint does not wait for it.
import { useMemo } from 'react';
import { countryName } from './format.ts';
import { useI18n } from './i18n.ts';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import world from 'world-atlas/countries-110m.json';

/** ISO 3166-1 alpha-2 to numeric (the ids world-atlas uses), for the countries most often seen. */
const NUMERIC: Record<string, string> = {
  JP: '392',
  US: '840',
  CN: '156',
  KR: '410',
  TW: '158',
  IN: '356',
  RU: '643',
  BR: '076',
  VN: '704',
  ID: '360',
  TH: '764',
  PH: '608',
  MY: '458',
  SG: '702',
  HK: '344',
  DE: '276',
  FR: '250',
  GB: '826',
  NL: '528',
  IT: '380',
  ES: '724',
  UA: '804',
  TR: '792',
  IR: '364',
  EG: '818',
  ZA: '710',
  MX: '484',
  AR: '032',
  CA: '124',
  AU: '036',
  PK: '586',
  BD: '050',
  NG: '566',
  PL: '616',
  RO: '642',
  SE: '752',
  CO: '170',
  CL: '152',
  PE: '604',
  SA: '682',
};

type Ring = number[][];

function pathOf(geometry: { type: string; coordinates: unknown }, w: number, h: number): string {
  // A ring crossing the antimeridian would draw a line across the map: start a new subpath there.
  const ring = (r: Ring) => {
    let d = '';
    let previousX = NaN;
    for (const p of r) {
      const x = ((p[0]! + 180) / 360) * w;
      const y = ((90 - p[1]!) / 180) * h;
      d += `${Number.isNaN(previousX) || Math.abs(x - previousX) > w / 2 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
      previousX = x;
    }
    return `${d}Z`;
  };
  if (geometry.type === 'Polygon') return (geometry.coordinates as Ring[]).map(ring).join('');
  if (geometry.type === 'MultiPolygon')
    return (geometry.coordinates as Ring[][]).flatMap((poly) => poly.map(ring)).join('');
  return '';
}

/** A marker's place: the mean of the country's largest ring (good enough at this scale). */
function anchorOf(geometry: { type: string; coordinates: unknown }, w: number, h: number): [number, number] {
  const polygons =
    geometry.type === 'Polygon'
      ? [geometry.coordinates as Ring[]]
      : geometry.type === 'MultiPolygon'
        ? (geometry.coordinates as Ring[][])
        : [];
  let best: Ring = [];
  for (const poly of polygons) if ((poly[0]?.length ?? 0) > best.length) best = poly[0]!;
  if (!best.length) return [NaN, NaN];
  let x = 0;
  let y = 0;
  for (const p of best) {
    x += p[0]!;
    y += p[1]!;
  }
  return [((x / best.length + 180) / 360) * w, ((90 - y / best.length) / 180) * h];
}

export default function WorldMap({ counts }: { counts: Record<string, number> }) {
  const { lang } = useI18n();
  const w = 720;
  const h = 360;
  const shapes = useMemo(() => {
    const topo = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    const fc = feature(topo, topo.objects.countries);
    return fc.features.map((f) => ({
      id: String(f.id),
      d: pathOf(f.geometry as never, w, h),
      anchor: anchorOf(f.geometry as never, w, h),
    }));
  }, []);
  const byNumeric = new Map<string, { code: string; n: number }>();
  for (const [code, n] of Object.entries(counts)) {
    const id = NUMERIC[code.toUpperCase()];
    if (id) byNumeric.set(id, { code, n: (byNumeric.get(id)?.n ?? 0) + n });
  }
  const max = Math.max(1, ...[...byNumeric.values()].map((c) => c.n));
  const listed = shapes.filter((s) => byNumeric.has(s.id) && !Number.isNaN(s.anchor[0]));
  return (
    <svg className="map" viewBox={`0 0 ${w} ${h}`} role="img" data-testid="map">
      {shapes.map((s) => {
        const n = byNumeric.get(s.id)?.n ?? 0;
        const level = n === 0 ? 0 : 0.2 + 0.8 * Math.sqrt(n / max);
        return (
          <path
            key={s.id + s.d.length}
            d={s.d}
            className={n ? 'country listed' : 'country'}
            fillOpacity={n ? level.toFixed(2) : undefined}
          />
        );
      })}
      {listed
        .sort((a, b) => byNumeric.get(b.id)!.n - byNumeric.get(a.id)!.n)
        .map((s) => {
          const { code, n } = byNumeric.get(s.id)!;
          const r = 7 + 9 * Math.sqrt(n / max);
          return (
            <g key={`m${s.id}`} className="marker-group" data-country={code}>
              <circle cx={s.anchor[0]} cy={s.anchor[1]} r={r} className="marker">
                <title>{`${countryName(code, lang)}: ${n.toLocaleString()}`}</title>
              </circle>
              <text x={s.anchor[0]} y={s.anchor[1] + 3.5} textAnchor="middle" className="marker-label">
                {n.toLocaleString()}
              </text>
            </g>
          );
        })}
    </svg>
  );
}
