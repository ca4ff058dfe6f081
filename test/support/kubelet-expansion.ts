/**
 * How the kubelet expands a container's env value (Kubernetes' forked `expansion` package, as its
 * documentation states it): `$(NAME)` is the value of NAME when NAME is defined earlier in the
 * env, and is kept as written when it is not; `$$` is one `$`; any other `$` is kept. The test
 * oracle for the kubelet's env, which no test here can run.
 */
export function expandKubernetes(value: string, defined: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '$' || i + 1 >= value.length) {
      out += c;
      continue;
    }
    const next = value[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = value.indexOf(')', i + 2);
      if (close < 0) {
        // An unclosed reference is kept as written, and what follows it is read on.
        out += '$(';
        i++;
        continue;
      }
      const name = value.slice(i + 2, close);
      out += Object.prototype.hasOwnProperty.call(defined, name) ? defined[name] : `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}
