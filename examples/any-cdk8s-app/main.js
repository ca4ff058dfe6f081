// The manifests are kept by hand (or come from elsewhere: Helm, kustomize, another team); cdk8s
// includes them as they are, and the cdk8s-ports plugin checks what the synth writes.
const path = require('path');
const { App, Chart, Include } = require('cdk8s');

const app = new App();
const chart = new Chart(app, 'shop');
for (const file of ['namespace.yaml', 'api.yaml', 'db.yaml', 'network-policies.yaml']) {
  new Include(chart, file.replace(/\.yaml$/, ''), { url: path.join(__dirname, 'k8s', file) });
}
app.synth();
