// The manifests bench:standalone writes: Services selecting 10 Pods each (app-<i / 10>).
export function podYAML(i: number, port: number, probe: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: pod-${i}
  namespace: bench
  labels: {app: app-${Math.floor(i / 10)}, tier: backend}
spec:
  nodeName: bench-node
  containers:
  - name: app
    ports: [{name: http, containerPort: ${port}}]
${probe ? '    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, timeoutSeconds: 1}\n' : ''}status:
  podIP: ${probe ? '127.0.0.1' : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`}
`;
}

export function serviceYAML(i: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: bench}
spec:
  selector: {app: app-${i}}
  ports: [{name: http, port: 80, targetPort: http}]
`;
}
