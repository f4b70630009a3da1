from torchvision import transforms

from data_load import Normalize, RandomCrop, Rescale, ToTensor

data_transform = transforms.Compose([Rescale(250), RandomCrop(224), Normalize(), ToTensor()])
