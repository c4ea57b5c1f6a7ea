// A program that only knows recsys through find_package: builds a tiny graph and back-propagates.
#include <recsys/recsys.hpp>

#include <iostream>

int main() {
  recsys::Tensor w = recsys::tensor({1.0f, -2.0f, 3.0f});
  w.set_requires_grad();
  recsys::Tensor loss = recsys::sum(w * w);
  loss.backward();
  const auto g = w.grad().to_vector<float>();
  const bool ok = g == std::vector<float>{2.0f, -4.0f, 6.0f};
  std::cout << "consumer: loss " << loss.item<float>() << (ok ? " gradient ok\n" : " gradient WRONG\n");
  return ok ? 0 : 1;
}
