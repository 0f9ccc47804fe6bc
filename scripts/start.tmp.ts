import { benchStart } from '../bench/start';
for (const l of benchStart()) console.log(l);
