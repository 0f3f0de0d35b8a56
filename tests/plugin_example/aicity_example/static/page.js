// The example slice's console page: an ES module exporting render(root, api).
export async function render(root, api) {
  const { hello } = await api.get("/api/v1/example/hello");
  root.textContent = `示例 example: ${hello}`;
}
