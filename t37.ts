import { checkRegistry } from './lib';
const show = (spec: any) => { for (const f of checkRegistry(spec).findings) console.log(f.rule, f.message, '\n  FIX', f.fix); console.log('--'); };
show({ name: 'ai', environments: { dev: {} }, categories: { api: { ranges: [[16000, 16099]] }, debug: { ranges: [[16080, 16099]] }, mid: { ranges: [[16040, 16049]] } },
  services: { a: { public: true, category: 'api', ports: { http: { auto: true } } }, d: { public: true, category: 'debug', ports: { http: { auto: true } } } } });
show({ name: 'ai', environments: { dev: {} }, categories: { api: { ranges: [[16000, 16099]] }, debug: { ranges: [[16080, 16099]], within: 'api' } },
  services: { a: { public: true, category: 'api', ports: { http: { port: 16085 } } }, d: { public: true, category: 'debug', ports: { http: { auto: true } } } } });
show({ name: 'p', environments: { prod: { range: [8000, 8099] }, dev: { range: [8050, 8199] } }, categories: { x: { ranges: [[100, 50]] } } });
