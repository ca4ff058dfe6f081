/**
 * Typed Kubernetes 1.27 API objects. `cdk8s import k8s` needs the internet; cdk8s-plus-27
 * ships the same generated classes, pinned to its Kubernetes version, so they are
 * re-exported from here. They are taken from the module that holds them rather than from
 * the package's index, which would also load every cdk8s-plus construct (a cost on every synth
 * and CLI start that none of this project's code uses).
 */
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s';

export { k8s };
