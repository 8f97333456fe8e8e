// Renders the OpenAPI document into the page, with no outside assets.
(function () {
  "use strict";
  const root = document.getElementById("docs");
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  };
  const resolve = (spec, schema) => {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return (spec.components && spec.components.schemas && spec.components.schemas[name]) || {};
    }
    return schema || {};
  };
  const contentSchema = (spec, content) => {
    const json = content && content["application/json"];
    return json ? JSON.stringify(resolve(spec, json.schema), null, 2) : null;
  };
  fetch("/api/openapi.json")
    .then((r) => r.json())
    .then((spec) => {
      root.replaceChildren();
      if (spec.info && spec.info.description) root.append(el("p", {}, spec.info.description));
      const groups = {};
      Object.entries(spec.paths || {}).forEach(([path, ops]) => {
        Object.entries(ops).forEach(([method, op]) => {
          const tag = (op.tags && op.tags[0]) || "other";
          (groups[tag] = groups[tag] || []).push({ path, method, op });
        });
      });
      Object.keys(groups).sort().forEach((tag) => {
        root.append(el("h2", {}, tag));
        groups[tag].forEach(({ path, method, op }) => {
          const body = el("div", { class: "body" });
          if (op.description || op.summary) body.append(el("p", {}, op.description || op.summary));
          if (op.parameters && op.parameters.length) {
            body.append(el("h4", {}, "Parameters"), el("table", {},
              op.parameters.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, p.required ? "required" : "optional"), el("td", {}, p.description || "")))));
          }
          const req = op.requestBody && contentSchema(spec, op.requestBody.content);
          if (req) body.append(el("h4", {}, "Request body"), el("pre", {}, req));
          Object.entries(op.responses || {}).forEach(([status, resp]) => {
            body.append(el("h4", {}, status + " " + (resp.description || "")));
            const schema = contentSchema(spec, resp.content);
            if (schema) body.append(el("pre", {}, schema));
          });
          root.append(el("details", {}, el("summary", {}, el("span", { class: "method " + method }, method.toUpperCase()), " ", path), body));
        });
      });
    })
    .catch((e) => { root.replaceChildren(el("p", {}, "Could not load the API description: " + e)); });
})();
