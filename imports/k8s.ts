/**
 * Typed Kubernetes 1.27 API objects. `cdk8s import k8s` needs the internet; cdk8s-plus-27
 * ships the same generated classes, pinned to its Kubernetes version, so they are
 * re-exported from here.
 */
export { k8s } from 'cdk8s-plus-27';
